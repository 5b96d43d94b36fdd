"""Performance benchmarks of bakeoff itself (not tests): `python -m bench.perf.loadgen`."""
