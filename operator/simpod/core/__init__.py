"""The kubelet's pod lifecycle as pure functions: no I/O, no asyncio, an injected clock.

The agent feeds a SimPod (parsed by :mod:`simpod.core.serialize`), its previous status, what
the runtime reports and the current time into :func:`simpod.core.kubelet.sync_pod`, and gets
back the new status, the runtime actions, the Events and when to call again. Every rule lives
here so it can be unit-tested in milliseconds; times are kubelet seconds (epoch floats).
"""
