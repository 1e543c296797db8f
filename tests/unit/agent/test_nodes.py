"""A served node's tick phases: its own, or pinned by its spec."""

from __future__ import annotations

from simpod.agent.ipam import AddressPool
from simpod.agent.nodes import NodeInfo
from simpod.core.ticker import Ticker, Tickers


def test_a_node_follows_its_pinned_phases_and_goes_back_to_its_own() -> None:
    node = NodeInfo(name="sim-node-1", host_ip="172.30.0.1", pool=AddressPool("10.244.1.0/24"))
    own = Tickers.for_node("sim-node-1")
    assert node.tickers == own
    node.pin({"tickPhases": {"relist": 0.25, "syncLoop": 0.5}})
    assert node.tickers == Tickers(relist=Ticker(0.25), sync=Ticker(0.5))
    node.pin({"tickPhases": {"relist": 1.005, "relistPeriod": 1.01, "syncLoop": 0.5}})
    assert node.tickers.relist == Ticker(1.005, period=1.01)
    relists = [{"at": 10.2}, {"at": 11.2, "syncAt": 11.25}]
    node.pin({"tickPhases": {"relists": relists, "relistPeriod": 1.01, "syncLoop": 0.5}})
    assert node.tickers.relist == Ticker(
        0.0, period=1.01, moments=(10.2, 11.25), listed=(10.2, 11.2)
    )
    node.pin({})
    assert node.tickers == own
