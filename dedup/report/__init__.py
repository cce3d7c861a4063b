"""What people and CI read besides the cleaned text: today the HTML report
(:mod:`dedup.report.html`)."""
