"""Admission for SimPods: what the API server's admission chain does for Pods.

Pure rules (presets, legacy init containers, defaults, privileged and cross-field
validation) live in their own modules without I/O; :mod:`simpod.admission.webhooks` wires
them to Kopf's admission webhooks and :mod:`simpod.admission.server` tells the API server
where to call them.
"""
