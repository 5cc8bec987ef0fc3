"""Reproducible benchmarks: each is one command, ``python -m bench.<name> [--quick] [--db sqlite|postgres]``.

Every figure is reported next to a baseline measured in the same run, as a ratio, because
absolute times drift on shared machines. Results and the machine they came from: bench/README.md.
"""
