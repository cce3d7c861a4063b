"""What ``spark-submit`` runs: ``dedup spark`` with the arguments after the file, on the
master and settings ``spark-submit`` was given (the session it started)::

    spark-submit --master yarn --py-files paradedup.whl \\
        "$(python -c 'import dedup.spark.submit as s; print(s.__file__)')" \\
        hdfs:///crawl/2026-12 hdfs:///clean/2026-12 --split lines
"""

import sys

from dedup.cli import cli

if __name__ == "__main__":
    cli(["spark", *sys.argv[1:]], prog_name="dedup spark")
