"""Griffe extension for the API pages (mkdocs.yml loads it; the package itself does not).

The docstrings are reST-flavoured prose read as Markdown. Before mkdocstrings renders them this
extension, once the whole ``healthcred`` package is loaded:

- turns roles (``:class:`TrustStore```) into links to the object's page where that object is
  documented, else into code;
- turns a literal-block introduction (``...::`` before an indented block) into a colon: the
  indented block is already a Markdown code block;
- documents each name once, at the package path users import it from when its package
  re-exports it (see ``_document_once``);
- appends the table of the public API (``healthcred.__all__``) to the top-level docstring;
- warns on a documented module, class or function without a docstring (as ruff's D1 rules do for
  the source), which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

PACKAGE = "healthcred"
UNDOCUMENTED = ("healthcred.cli",)  # the command line is documented by --help and the README
NOT_API = {"model_config"}  # besides dunder attributes
ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|const):`~?([^`]+)`")
LITERAL_INTRO = re.compile(r"(?<=\S)::$", re.MULTILINE)  # "as follows::" -> "as follows:"
LITERAL_ALONE = re.compile(r"^[ \t]*::\n", re.MULTILINE)  # a "::" line of its own goes


class HealthcredDocs(griffe.Extension):
    """Prepare the ``healthcred`` package's docstrings for the site (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Hide duplicate re-exports, rewrite roles, add the API table, warn on missing docstrings."""
        if pkg.name != PACKAGE:
            return
        objects = list(_walk(pkg))
        machinery = [obj for obj in objects if _not_api(obj)]
        for obj in machinery:  # removed, not hidden: a class rendered through an alias would show them
            if obj.parent is not None:
                obj.parent.del_member(obj.name)
        objects = [obj for obj in objects if not _not_api(obj)]
        shown_at = _document_once(pkg, objects)  # a re-exported definition's path -> where it is shown
        for obj in objects:
            if obj.docstring is not None:
                obj.docstring.value = _markdown(obj, obj.docstring.value, loader, shown_at)
        if pkg.docstring is not None:
            pkg.docstring.value += "\n\n" + _api_table(pkg, shown_at)
        for obj in objects:
            shown = _documented(obj) or obj.path in shown_at
            if not obj.docstring and not obj.is_attribute and shown and not obj.name.startswith("__"):
                griffe.logger.warning(f"{obj.path}: a public {obj.kind.value} without a docstring")


def _not_api(obj: griffe.Object) -> bool:
    """A class attribute that is machinery, not API: ``__slots__``, pydantic's ``model_config``."""
    parent = obj.parent
    return (
        obj.is_attribute
        and parent is not None
        and parent.is_class
        and (obj.name.startswith("__") or obj.name in NOT_API)
    )


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    """Every object defined in the package (no aliases), parents first."""
    yield obj
    for member in obj.members.values():
        if not isinstance(member, griffe.Alias):
            yield from _walk(member)


def _markdown(obj: griffe.Object, text: str, loader: griffe.GriffeLoader, shown_at: dict[str, str]) -> str:
    """The docstring with roles as links or code, and ``::`` introductions as colons."""
    text = ROLE.sub(lambda match: _reference(obj, match[1], loader, shown_at), text)
    return LITERAL_ALONE.sub("", LITERAL_INTRO.sub(":", text))


def _reference(obj: griffe.Object, name: str, loader: griffe.GriffeLoader, shown_at: dict[str, str]) -> str:
    """A link to ``name`` as seen from ``obj`` if the site documents it, else ``name`` as code."""
    label = name.removeprefix(".")
    try:
        path = obj.resolve(label) if "." not in label else label
        target = loader.modules_collection[path]
        if isinstance(target, griffe.Alias):
            target = target.final_target
    except (griffe.NameResolutionError, griffe.AliasResolutionError, KeyError):
        return f"`{label}`"
    return _link(label, target, shown_at)


def _link(label: str, target: griffe.Object, shown_at: dict[str, str]) -> str:
    """``label`` as a link to where the site shows ``target``, or as code if it does not."""
    if target.path in shown_at:
        return f"[`{label}`][{shown_at[target.path]}]"
    return f"[`{label}`][{target.path}]" if _documented(target) else f"`{label}`"


def _documented(obj: griffe.Object | griffe.Alias) -> bool:
    """Whether the API pages render ``obj``: public all the way up, inside the package, not the CLI."""
    if not obj.path.startswith(PACKAGE) or obj.path.startswith(UNDOCUMENTED):
        return False
    node: griffe.Object | griffe.Alias | None = obj
    while node is not None and node.parent is not None:
        if not node.is_public:
            return False
        node = node.parent
    return True


def _document_once(pkg: griffe.Module, objects: list[griffe.Object]) -> dict[str, str]:
    """Render each object once: at the topmost own package re-exporting it, else where it is defined.

    A package's ``__init__`` re-exporting its submodules' names shows them at the path users import
    from (``healthcred.printing.render_card``), and the submodule does not repeat them. Any other
    re-export (a module passing on a name from another layer) is not rendered: the name is
    documented where it lives, or at its shortest public path if it lives in a private module.
    The top-level ``healthcred`` lists its names in a table instead (``_api_table``). Returns each
    definition's path mapped to the alias path it is rendered at, when that differs.
    """
    aliases: dict[str, list[griffe.Alias]] = {}
    for module in objects:
        if module.is_module and module is not pkg and _documented(module):
            for member in module.members.values():
                if isinstance(member, griffe.Alias) and member.is_public:
                    try:
                        aliases.setdefault(member.final_target.path, []).append(member)
                    except griffe.AliasResolutionError:
                        continue
    shown_at: dict[str, str] = {}
    for path, passing_on in aliases.items():
        own = [alias for alias in passing_on if path.startswith(alias.parent.path + ".")]  # type: ignore[union-attr]
        if not own and not _documented(passing_on[0].final_target):  # defined out of sight: show it
            own = passing_on
        home = min(own, key=lambda alias: len(alias.path)) if own else None
        for alias in passing_on:
            alias.public = alias is home
        if home is not None:
            home.final_target.public = False
            shown_at[path] = home.path
    return shown_at


def _api_table(pkg: griffe.Module, shown_at: dict[str, str]) -> str:
    """A Markdown table of ``__all__``: each name, linked to its documentation, and its summary."""
    rows = ["| name | what it is |", "|---|---|"]
    for name in pkg.exports or ():
        member = pkg.members.get(str(name))
        if member is None:
            continue
        if not isinstance(member, griffe.Alias):  # defined here (``__version__``): not rendered below
            rows.append(f"| `{name}` | `{getattr(member, 'value', '')}` |")
            continue
        target = member.final_target
        summary = (target.docstring.value.split("\n\n")[0] if target.docstring else "").replace("\n", " ")
        rows.append(f"| {_link(str(name), target, shown_at)} | {summary.replace('|', '&#124;')} |")
    return "**The public API** (`healthcred.__all__`):\n\n" + "\n".join(rows)
