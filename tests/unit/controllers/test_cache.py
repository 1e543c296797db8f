"""The grouped pod cache that stands in for a Kopf index."""

from __future__ import annotations

from simpod.controllers.cache import GroupedCache


def test_put_moves_and_forgets() -> None:
    cache: GroupedCache[str] = GroupedCache()
    cache.put("u1", "n1", "a")
    cache.put("u2", "n1", "b")
    cache.put("u1", "n2", "a2")  # moved to another group
    assert dict(cache.group("n1")) == {"u2": "b"}
    assert dict(cache.group("n2")) == {"u1": "a2"}
    cache.put("u2", None, None)  # no longer belongs anywhere
    assert "u2" not in cache
    assert set(cache.groups()) == {"n2"}
    cache.remove("u1")
    cache.remove("missing")
    assert len(cache) == 0
    assert list(cache) == []
