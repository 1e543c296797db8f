"""Typed access to what the roles put into Kopf's memo."""

from __future__ import annotations

from typing import Any, TypeVar

from simpod.kube import Api
from simpod.settings import Settings

T = TypeVar("T")


def memo_get(memo: Any, key: str, kind: type[T]) -> T:
    """``memo[key]``, checked to be a ``kind`` (the memo itself is untyped)."""
    value = memo[key]
    assert isinstance(value, kind)
    return value


def memo_api(memo: Any) -> Api:
    return memo_get(memo, "api", Api)


def memo_settings(memo: Any) -> Settings:
    return memo_get(memo, "settings", Settings)
