"""Differential tests: every scenario runs as a real ``Pod`` on the real kubelet (the oracle)
and as a ``SimPod`` on the process runtime, under the same wall clock; their timelines are
compared. ``make conformance`` (or ``python -m tests.conformance``) runs them; this package
is not collected by ``make test``: it needs root and a real node, and takes minutes.
"""
