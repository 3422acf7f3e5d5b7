"""Load and size benchmarks for eventreg (issue 7): run them with ``bench/run``."""
