"""Loopback fakes that speak the real protocols; the demo, benchmarks and tests use them."""
