"""``python -m dedup``: the same as the ``dedup`` command.

The command calls no BLAS routine, and OpenBLAS (numpy's) starts a thread a core when
numpy loads, which then spins: ~0.15 s of CPU, as much as cleaning a short article costs,
taken from the core a ``--jobs`` worker would use. So the command asks for one thread
before numpy loads (a value the user set wins); a library does not set its host's threads.
"""

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    from dedup.cli import cli  # after the environment is set
except KeyboardInterrupt:  # Ctrl-C while the modules load (~0.2 s): nothing touched yet
    sys.stderr.write("dedup: interrupted; every file is as it was\n")
    raise SystemExit(130) from None  # the command's code for it (dedup.cli)


def main() -> None:
    """The ``dedup`` command's entry point."""
    cli(prog_name="dedup")


if __name__ == "__main__":
    main()
