"""Resource quantities ("500m", "1.5", "64Mi", "1e3") as the scheduler compares them.

The scheduler works in integers, as Kubernetes does: cpu in millicores and everything else in
whole units, both rounded up, so a request is never under-counted.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(value: str | int | float) -> Decimal:
    """The amount a quantity stands for; raises ValueError on what the API would reject."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = value.strip()
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return _number(text[: -len(suffix)], value) * factor
    for suffix in ("n", "u", "m", "k", "M", "G", "T", "P", "E"):
        if text.endswith(suffix):
            return _number(text[:-1], value) * _DECIMAL[suffix]
    return _number(text, value)


def _number(text: str, original: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"invalid quantity {original!r}") from None
    if not number.is_finite():
        raise ValueError(f"invalid quantity {original!r}")
    return number


def milli_value(value: str | int | float) -> int:
    """Thousandths, rounded up (cpu: "250m" → 250, "1" → 1000)."""
    return math.ceil(parse_quantity(value) * 1000)


def whole_value(value: str | int | float) -> int:
    """Whole units, rounded up (memory in bytes, pod counts)."""
    return math.ceil(parse_quantity(value))
