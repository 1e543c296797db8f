"""The `simulated` runtime: no processes; behaviour scripted by each container's `sim` block."""
