"""Foreign credential formats read by the same offline verifier: EU DCC (``HC1:``) and SMART Health Cards.

Each is a codec plus a mapping into healthcred's common result; they sit beside
the native codec and import only the layers below the flows.
"""
