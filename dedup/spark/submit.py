"""What ``spark-submit`` runs: ``dedup spark`` with the arguments after the file, on the
master and settings ``spark-submit`` was given (the session it started)::

    spark-submit --master yarn \\
        "$(python -c 'import dedup.spark.submit as s; print(s.__file__)')" \\
        hdfs:///crawl/2026-12 hdfs:///clean/2026-12 --split lines

The executors need ``dedup`` installed in their Python (a wheel, not a zip in
``--py-files``, which cannot load the compiled kernel: see the README's *On Apache Spark*).
"""

import sys

import dedup.__main__  # noqa: F401  (first, as the command: one OpenBLAS thread unless set)
from dedup.cli import cli

if __name__ == "__main__":
    cli(["spark", *sys.argv[1:]], prog_name="dedup spark")
