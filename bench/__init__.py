"""Benchmarks (not tests, not run by CI): `python -m bench.burst`, `bench/kb_search.py`.

See bench/README.md for what each one measures and the figures measured here.
"""
