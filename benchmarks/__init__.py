"""Load benchmarks and the bare-WSGI floor (not tests; see README.md)."""
