"""Container runtimes behind one interface: `simulated` (scripted) and `process` (real)."""
