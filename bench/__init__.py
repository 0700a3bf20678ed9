"""Performance scenarios behind `make bench` (see bench/__main__.py and bench/RESULTS.md)."""
