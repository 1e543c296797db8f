"""A kubelet ticker's ticks."""

from __future__ import annotations

from simpod.core.ticker import Ticker, Tickers


def test_ticks() -> None:
    ticker = Ticker(phase=0.25)
    assert ticker.last(10.5) == 10.25
    assert ticker.next(10.25) == 11.25
    assert ticker.at_or_after(10.25) == 10.25
    assert ticker.at_or_after(10.3) == 11.25


def test_a_nodes_two_tickers_are_not_in_step() -> None:
    tickers = Tickers.for_node("sim-node-1")
    assert tickers.relist != tickers.sync
    assert tickers == Tickers.for_node("sim-node-1")


def test_a_longer_period_drifts_past_the_second() -> None:
    """A real relist waits a second after each relist ends: its ticks drift later."""
    ticker = Ticker(phase=0.25, period=1.01)
    assert ticker.next(0.25) == 1.26
    assert abs(ticker.last(10.5) - (0.25 + 10 * 1.01)) < 1e-9
    assert abs(ticker.next(10.5) - (0.25 + 11 * 1.01)) < 1e-9
