"""Typed access to what :mod:`simpod.operator` puts into Kopf's memo."""

from __future__ import annotations

from typing import Any

from simpod.kube import Api
from simpod.settings import Settings


def memo_api(memo: Any) -> Api:
    api = memo["api"]
    assert isinstance(api, Api)
    return api


def memo_settings(memo: Any) -> Settings:
    settings = memo["settings"]
    assert isinstance(settings, Settings)
    return settings
