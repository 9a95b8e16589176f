"""Benchmarks: scripts that print figures and ratios against a baseline measured in the
same run (STYLE.md). Run them from the repository root, e.g. `python -m bench.scan`."""
