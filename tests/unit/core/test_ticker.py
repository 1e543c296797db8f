"""A kubelet ticker's ticks."""

from __future__ import annotations

import random

import pytest

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


def test_known_moments_are_the_ticks_and_the_period_extends_them() -> None:
    """A real relist's ticks, read one by one, neither keep a phase nor a period."""
    ticker = Ticker(phase=0.9, period=1.01, moments=(10.2, 11.25, 12.2))
    assert ticker.last(10.2) == 10.2
    assert ticker.last(11.0) == 10.2
    assert ticker.next(10.2) == 11.25
    assert ticker.next(11.25) == 12.2
    assert ticker.at_or_after(11.25) == 11.25
    assert ticker.at_or_after(11.3) == 12.2
    assert abs(ticker.next(12.2) - 13.21) < 1e-9
    assert abs(ticker.last(14.0) - 13.21) < 1e-9
    assert abs(ticker.last(10.0) - 9.19) < 1e-9
    assert ticker.next(10.0) == 10.2
    assert abs(ticker.next(9.0) - 9.19) < 1e-9


def test_a_tick_shows_what_changed_before_its_listing() -> None:
    """A real relist lists the containers, then syncs the changed pods one by one."""
    ticker = Ticker(moments=(10.2, 11.25, 12.2), listed=(10.19, 11.2, 12.19))
    assert ticker.listing(11.25) == 11.2
    assert ticker.listing(13.0) == 13.0  # beyond the known ticks: a tick lists as it ticks
    assert ticker.seeing(11.1) == 11.25
    assert ticker.seeing(11.22) == 12.2  # after the listing: the tick after shows it
    assert ticker.seeing(11.1, after=11.3) == 12.2  # shown by 11.25, but after 11.3
    assert Ticker(phase=0.5).seeing(10.5) == 10.5  # as a relist shows what came at it
    assert Ticker(phase=0.5).seeing(10.6) == 11.5


@pytest.mark.parametrize("seed", range(5))
def test_ticks_stay_exact_far_from_the_epoch(seed: int) -> None:
    """Moments some 1.8e9 s from zero: a tick computed from them is a tick again."""
    draw = random.Random(seed)
    start = 1_795_693_856 + draw.random()
    moments = tuple(start + n * 1.0123 + draw.uniform(0, 0.01) for n in range(5))
    for ticker in (Ticker(phase=0.37, period=1.0123), Ticker(period=1.0123, moments=moments)):
        now = start - 20 + draw.random()
        for _ in range(60):
            tick = ticker.next(now)
            assert tick > now
            assert ticker.last(tick) == tick
            assert ticker.at_or_after(tick) == tick
            assert ticker.seeing(tick) == tick
            now = tick
