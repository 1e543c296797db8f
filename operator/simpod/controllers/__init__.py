"""Cluster-side controllers; they only talk to the API.

Scheduler, node lifecycle, pod GC, endpoints and the workload controllers.
"""
