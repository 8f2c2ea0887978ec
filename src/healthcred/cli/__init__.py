"""The ``healthcred`` command: one module per command group; :func:`main` is the entry point."""
