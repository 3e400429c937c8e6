"""Benchmarks: planning and sending, with the baselines they are measured against."""
