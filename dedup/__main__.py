"""``python -m dedup``: the same as the ``dedup`` command."""

from dedup.cli import cli

if __name__ == "__main__":
    cli(prog_name="dedup")
