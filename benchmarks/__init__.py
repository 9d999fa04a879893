"""Performance benchmark for the myeloma-relapse hook (issue 6). Not part of the test suite.

Run: `.venv/bin/python -m benchmarks.run` (see README, section Performance).
"""
