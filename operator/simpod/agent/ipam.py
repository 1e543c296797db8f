"""Pod IPs from each SimNode's ``podCIDR``: unique among the node's live pods.

Addresses only; nothing is ever sent to a simulated pod. After an operator restart the
workers claim the addresses their pods already show in ``status.podIP``.
"""

from __future__ import annotations

import ipaddress


class AddressPool:
    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr, strict=False)
        self.used: set[str] = set()

    def claim(self, ip: str) -> None:
        self.used.add(ip)

    def allocate(self) -> str:
        """The lowest free host address after the gateway (.1), as host-local IPAM does."""
        hosts = self.network.hosts()
        next(hosts, None)  # the bridge/gateway address
        for host in hosts:
            text = str(host)
            if text not in self.used:
                self.used.add(text)
                return text
        raise RuntimeError(f"pod CIDR {self.network} is exhausted")

    def release(self, ip: str) -> None:
        self.used.discard(ip)
