"""Synthetic videos with known truth, encoded with a real codec: for tests, the demo and benchmarks."""
