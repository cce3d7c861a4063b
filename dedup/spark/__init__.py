"""The batch engine past one machine: the corpus cleaner's removals, worked out by Apache
Spark (:mod:`dedup.spark.job`), in steps (:mod:`dedup.spark.plan`) that give the one-machine
run's decisions exactly."""
