"""Rules layer: CertLogic evaluation, status determination and verification policies.

Empty in this release: the foundation verifies codes; the rules that decide
what a colour means at a given place arrive with the rules work (issue 4).
"""
