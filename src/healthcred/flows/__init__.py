"""The flows: verify, issue, national codes, gate decisions, place codes, scan log, bindings, ID checks."""
