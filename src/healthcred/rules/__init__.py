"""Rules layer: CertLogic evaluation (and, to come, status determination and verification policies).

``evaluate(expression, data)`` returns the CertLogic value; ``validate(expression)`` raises
:class:`~healthcred.errors.InvalidRule` with the path to the fault; ``compile_rule`` validates
once and gives a :class:`Rule` to evaluate many times.
"""

from healthcred.rules.certlogic import Rule, compile_rule, evaluate, validate

__all__ = ["Rule", "compile_rule", "evaluate", "validate"]
