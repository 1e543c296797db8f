"""``make bench``: scenarios measured against a real control plane, merged into
``bench/results/latest.json`` (one object per scenario, flat numeric fields)."""
