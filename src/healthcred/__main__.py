"""``python -m healthcred``: the ``healthcred`` command, for a machine where the script is not on PATH."""

if __name__ == "__main__":  # importing the module (a coverage or fuzzing import hook does) runs nothing
    from healthcred.cli.main import main

    main(prog_name="healthcred")
