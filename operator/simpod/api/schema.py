"""A small typed model of the OpenAPI v3 subset that CRD structural schemas use.

Every CRD shape of this package is composed from the constructors below, so a
shape (a container, a probe, a pod template) is written once and reused. The
constructors make the API server's demands hard to miss: every node carries a
description (what `kubectl explain` prints), and every list, map and free-form
string takes an explicit bound, because the API server's CEL cost estimator
rejects rules over unbounded data.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any

JSON = dict[str, Any]

# A Kubernetes resource quantity ("500m", "1Gi", "2"), as the core API validates it.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


class ListType(enum.Enum):
    """How the API server merges a list in server-side apply (and correlates old items)."""

    ATOMIC = "atomic"
    SET = "set"
    MAP = "map"


class Reason(enum.Enum):
    """The error type a failed CEL rule reports (the HTTP 422 cause type). Only types whose
    error text keeps the rule's message: FieldValueDuplicate and FieldValueRequired drop it."""

    INVALID = "FieldValueInvalid"
    FORBIDDEN = "FieldValueForbidden"


@dataclass(frozen=True)
class Rule:
    """One CEL rule (`x-kubernetes-validations`) and the message a person reads when it fails."""

    rule: str
    message: str
    _: KW_ONLY
    reason: Reason | None = None
    field_path: str | None = None

    def to_json(self) -> JSON:
        out: JSON = {"rule": self.rule, "message": self.message}
        if self.reason is not None:
            out["reason"] = self.reason.value
        if self.field_path is not None:
            out["fieldPath"] = self.field_path
        return out


@dataclass(frozen=True)
class Schema:
    """One node of a structural schema; build it with the constructors below, not directly."""

    description: str
    type: str | None
    _: KW_ONLY
    format: str | None = None
    enum: tuple[str, ...] = ()
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    max_properties: int | None = None
    nullable: bool = False
    int_or_string: bool = False
    preserve_unknown: bool = False
    properties: tuple[tuple[str, Schema], ...] = ()
    required: tuple[str, ...] = ()
    items: Schema | None = None
    additional_properties: Schema | None = None
    list_type: ListType | None = None
    list_map_keys: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()

    def describe(self, description: str) -> Schema:
        """The same shape explained for another place it is used."""
        return replace(self, description=description)

    def with_rules(self, *rules: Rule) -> Schema:
        """The same shape with extra CEL rules (e.g. liveness-only probe rules)."""
        return replace(self, rules=self.rules + rules)

    def with_properties(self, properties: Mapping[str, Schema]) -> Schema:
        """The same object with more fields (e.g. an init container's `restartPolicy`)."""
        clash = set(properties) & set(self.property_names())
        if clash:
            raise ValueError(f"fields {sorted(clash)} are already defined")
        return replace(self, properties=(*self.properties, *properties.items()))

    def property_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.properties)

    def _documented(self) -> str:
        """The description, with a scalar default spelled out: `kubectl explain` omits defaults."""
        if self.default is None or isinstance(self.default, dict):
            return self.description
        shown = json.dumps(self.default) if isinstance(self.default, bool) else self.default
        return f"{self.description} Default: {shown}."

    def to_json(self) -> JSON:
        """The OpenAPI v3 JSON of this node: keys in a fixed order, properties sorted."""
        out: JSON = {"description": self._documented()}
        if self.type is not None:
            out["type"] = self.type
        if self.int_or_string:
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
            out["x-kubernetes-int-or-string"] = True
        scalars: tuple[tuple[str, Any], ...] = (
            ("format", self.format),
            ("enum", list(self.enum) or None),
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("pattern", self.pattern),
            ("minItems", self.min_items),
            ("maxItems", self.max_items),
            ("maxProperties", self.max_properties),
            ("nullable", self.nullable or None),
            ("x-kubernetes-preserve-unknown-fields", self.preserve_unknown or None),
            ("x-kubernetes-list-type", self.list_type.value if self.list_type else None),
            ("x-kubernetes-list-map-keys", list(self.list_map_keys) or None),
            ("required", sorted(self.required) or None),
        )
        out.update((key, value) for key, value in scalars if value is not None)
        if self.properties:
            out["properties"] = {name: schema.to_json() for name, schema in sorted(self.properties)}
        if self.items is not None:
            out["items"] = self.items.to_json()
        if self.additional_properties is not None:
            out["additionalProperties"] = self.additional_properties.to_json()
        if self.rules:
            out["x-kubernetes-validations"] = [rule.to_json() for rule in self.rules]
        return out


def obj(
    description: str,
    properties: Mapping[str, Schema],
    *,
    required: Sequence[str] = (),
    rules: Sequence[Rule] = (),
    default: JSON | None = None,
) -> Schema:
    """An object with known fields; unknown fields are pruned by the API server."""
    unknown = set(required) - set(properties)
    if unknown:
        raise ValueError(f"required fields {sorted(unknown)} are not properties")
    return Schema(
        description,
        "object",
        properties=tuple(properties.items()),
        required=tuple(dict.fromkeys(required)),
        rules=tuple(rules),
        default=default,
    )


def preserved(description: str) -> Schema:
    """An object the API server keeps verbatim: only for data no schema can describe."""
    return Schema(description, "object", preserve_unknown=True)


def array(
    description: str,
    items: Schema,
    *,
    max_items: int,
    min_items: int | None = None,
    map_keys: Sequence[str] = (),
    list_type: ListType | None = None,
    rules: Sequence[Rule] = (),
) -> Schema:
    """A bounded list; `map_keys` makes it a list-map keyed (and correlated) by those fields."""
    if map_keys:
        missing = set(map_keys) - set(items.required)
        if missing:
            raise ValueError(f"list-map keys {sorted(missing)} must be required in the items")
        list_type = ListType.MAP
    return Schema(
        description,
        "array",
        items=items,
        max_items=max_items,
        min_items=min_items,
        list_type=list_type,
        list_map_keys=tuple(map_keys),
        rules=tuple(rules),
    )


def map_of(description: str, values: Schema, *, max_properties: int) -> Schema:
    """A bounded map from free-form keys to `values`."""
    return Schema(
        description, "object", additional_properties=values, max_properties=max_properties
    )


def string(
    description: str,
    *,
    max_length: int,
    min_length: int | None = None,
    pattern: str | None = None,
    default: str | None = None,
    rules: Sequence[Rule] = (),
) -> Schema:
    """A free-form string, bounded so that CEL rules over it stay within the cost budget."""
    return Schema(
        description,
        "string",
        max_length=max_length,
        min_length=min_length,
        pattern=pattern,
        default=default,
        rules=tuple(rules),
    )


def string_map(description: str, *, max_properties: int, max_length: int) -> Schema:
    """A bounded map of strings (labels, annotations, node selectors)."""
    return map_of(
        description,
        string("A value.", max_length=max_length),
        max_properties=max_properties,
    )


def one_of(description: str, values: Sequence[str], *, default: str | None = None) -> Schema:
    """A string limited to `values` (the API server derives its length bound from them)."""
    if default is not None and default not in values:
        raise ValueError(f"default {default!r} is not one of {list(values)}")
    return Schema(description, "string", enum=tuple(values), default=default)


def timestamp(description: str) -> Schema:
    """An RFC 3339 date-time, as metav1.Time serialises."""
    return Schema(description, "string", format="date-time")


def integer(
    description: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
    int64: bool = False,
) -> Schema:
    """An integer; `int64` for the fields the core API declares as int64."""
    return Schema(
        description,
        "integer",
        format="int64" if int64 else "int32",
        minimum=minimum,
        maximum=maximum,
        default=default,
    )


def number(description: str, *, minimum: float | None = None, nullable: bool = False) -> Schema:
    """A number that may be fractional; `nullable` keeps an explicit null (it means "never")."""
    return Schema(description, "number", minimum=minimum, nullable=nullable)


def boolean(description: str, *, default: bool | None = None) -> Schema:
    return Schema(description, "boolean", default=default)


def int_or_string(
    description: str,
    *,
    max_length: int,
    pattern: str | None = None,
    default: int | str | None = None,
    rules: Sequence[Rule] = (),
) -> Schema:
    """A value that is a number or a string (ports by number or name, percentages)."""
    return Schema(
        description,
        None,
        int_or_string=True,
        max_length=max_length,
        pattern=pattern,
        default=default,
        rules=tuple(rules),
    )


def quantity(description: str) -> Schema:
    """A resource quantity such as `500m` or `1Gi`."""
    return int_or_string(description, max_length=64, pattern=QUANTITY_PATTERN)


def exactly_one(fields: Iterable[str]) -> str:
    """A CEL expression that holds when exactly one of `fields` is set on `self`."""
    return " + ".join(f"(has(self.{name}) ? 1 : 0)" for name in fields) + " == 1"


def unchanged(fields: Iterable[str]) -> str:
    """A CEL transition expression: each of `fields` is as it was (present with the same value,
    or absent both times)."""
    return " && ".join(
        f"(has(self.{name}) ? has(oldSelf.{name}) && self.{name} == oldSelf.{name}"
        f" : !has(oldSelf.{name}))"
        for name in fields
    )
