"""``python -m healthcred``: the ``healthcred`` command, for a machine where the script is not on PATH."""

from healthcred.cli.main import main

main(prog_name="healthcred")
