"""Benchmarks (run as scripts; they print figures and are not tests)."""
