"""Benchmark data: a large (or small) portfolio written in bulk, as the app would have recorded it."""
