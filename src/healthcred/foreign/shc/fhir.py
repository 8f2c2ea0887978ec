"""A SMART Health Card's FHIR bundle → the common model: the person, the kind and its facts.

Only what ``docs/interop.md`` maps is read: the first Patient's name and birth date, the
latest completed Immunization (vaccination cards) or the latest Observation (lab cards).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from healthcred.model import Person

__all__ = ["COVID19", "from_fhir"]

_TYPE = "https://smarthealth.cards#"
COVID19 = "840539006"
"""SNOMED CT code for COVID-19, the ``disease`` fact's value (as the EU DCC's ``tg`` gives it)."""
_CVX = "http://hl7.org/fhir/sid/cvx"
_LOINC = "http://loinc.org"
_SNOMED = "http://snomed.info/sct"
# CVX codes of COVID-19 vaccines (CDC CVX table: US products, then the 5xx non-US ones).
_COVID_CVX = frozenset(
    ["207", "208", "210", "211", "212", "213", "217", "218", "219", "221", "225", "226", "227", "228",
     "229", "230", "231", "300", "301", "302", "310", "311", "312", "313"]
    + [str(code) for code in range(500, 520)]
)  # fmt: skip
# LOINC codes of SARS-CoV-2 infection tests (NAAT and antigen) the SHC COVID-19 lab profile lists.
_COVID_LOINC = frozenset(
    ["94309-2", "94500-6", "94531-1", "94533-7", "94534-5", "94558-4", "94559-2", "94565-9", "94759-8",
     "94845-5", "95209-3", "95406-5", "95409-9", "95423-0", "95425-5", "96119-3", "96120-1", "96122-7",
     "96123-5", "96448-6", "96986-5", "97097-0", "94756-4", "94757-2", "94760-6"]
)  # fmt: skip
# SNOMED CT results: positive/detected, negative/not detected (EU DCC uses the "detected" pair).
_RESULTS = {"10828004": "positive", "260373001": "positive", "260385009": "negative", "260415000": "negative"}


def _resources(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    found = (e.get("resource") for e in entries if isinstance(e, dict))
    return [r for r in found if isinstance(r, dict)]


def _of_type(resources: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r.get("resourceType") == name]


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _person(resources: list[Mapping[str, Any]]) -> Person:
    patients = _of_type(resources, "Patient")
    patient = patients[0] if patients else {}
    names = patient.get("name")
    name = next((n for n in names if isinstance(n, dict)), {}) if isinstance(names, list) else {}
    family = _text(name.get("family"))
    given_list = name.get("given")
    given = (
        " ".join(g.strip() for g in given_list if isinstance(g, str) and g.strip()) or None
        if isinstance(given_list, list)
        else None
    )
    display = ", ".join(part for part in (family, given) if part) or _text(name.get("text")) or "(no name)"
    birth_date = _text(patient.get("birthDate"))
    return Person(name=display, birth_date=birth_date, family_name=family, given_name=given)


def _coding(concept: object) -> tuple[str, str] | None:
    # The first (system, code) of a CodeableConcept.
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return None
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        if isinstance(system, str) and isinstance(code, str):
            return system, code
    return None


def _when(resource: Mapping[str, Any], name: str) -> str:
    value = resource.get(name)
    return value if isinstance(value, str) else ""


def _vaccine_disease(immunization: Mapping[str, Any], covid_typed: bool) -> str | None:
    coding = _coding(immunization.get("vaccineCode"))
    if covid_typed or (coding is not None and coding[0] == _CVX and coding[1] in _COVID_CVX):
        return COVID19
    return None


def _vaccination(resources: list[Mapping[str, Any]], covid_typed: bool) -> dict[str, Any]:
    done = [r for r in _of_type(resources, "Immunization") if r.get("status") == "completed"]
    if not done:
        return {}
    latest = max(reversed(done), key=lambda r: _when(r, "occurrenceDateTime"))  # ties: the later entry
    facts: dict[str, Any] = {}
    disease = _vaccine_disease(latest, covid_typed)
    if disease is not None:
        facts["disease"] = disease
        # Doses against the same disease only: a card may also list, say, an influenza shot.
        done = [r for r in done if _vaccine_disease(r, covid_typed) == disease]
    product = _coding(latest.get("vaccineCode"))
    if product is not None:
        facts["product"] = f"{product[0]}|{product[1]}"
    facts["dose"] = len(done)
    if _when(latest, "occurrenceDateTime"):
        facts["date"] = _when(latest, "occurrenceDateTime")
    return facts


def _test(resources: list[Mapping[str, Any]], covid_typed: bool) -> dict[str, Any]:
    observations = _of_type(resources, "Observation")
    with_result = [o for o in observations if isinstance(o.get("valueCodeableConcept"), dict)]
    pool = with_result or observations
    if not pool:
        return {}
    latest = max(reversed(pool), key=lambda o: _when(o, "effectiveDateTime"))
    facts: dict[str, Any] = {}
    test_type = _coding(latest.get("code"))
    if covid_typed or (test_type is not None and test_type[0] == _LOINC and test_type[1] in _COVID_LOINC):
        facts["disease"] = COVID19
    if test_type is not None:
        facts["test_type"] = f"{test_type[0]}|{test_type[1]}"
    result = _coding(latest.get("valueCodeableConcept"))
    if result is not None or "valueCodeableConcept" in latest:
        facts["result"] = _RESULTS.get(result[1], "other") if result and result[0] == _SNOMED else "other"
    if _when(latest, "effectiveDateTime"):
        facts["sampled_at"] = _when(latest, "effectiveDateTime")
    return facts


def from_fhir(types: list[str], bundle: Mapping[str, Any]) -> tuple[Person, str, dict[str, Any]]:
    """The person, kind and facts a card's FHIR bundle tells, given the card's ``vc.type`` list.

    Kind ``vaccination``, ``test`` or ``unknown``; the facts under the common keys
    (``docs/interop.md``), absent when the bundle does not give them. Never raises
    for a strange bundle: what cannot be read is left out.
    """
    resources = _resources(bundle)
    kind, facts = _kind_and_facts(types, resources)
    return _person(resources), kind, facts


def _kind_and_facts(types: list[str], resources: list[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    covid_typed = _TYPE + "covid19" in types
    if _TYPE + "immunization" in types:
        return "vaccination", _vaccination(resources, covid_typed)
    if _TYPE + "laboratory" in types:
        return "test", _test(resources, covid_typed)
    # SHC 1.4 deprecated these types "in favour of classifying cards based on their contents":
    # immunizations alone make a vaccination card. Lab results are not inferred — a general
    # panel (the specification's example 02) is no infection test a policy should accept.
    if _of_type(resources, "Immunization") and not _of_type(resources, "Observation"):
        return "vaccination", _vaccination(resources, covid_typed)
    return "unknown", {}
