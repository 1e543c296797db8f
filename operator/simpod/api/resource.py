"""What a CRD declares about one kind besides its schema: printer columns, subresources."""

from __future__ import annotations

import enum
from dataclasses import KW_ONLY, dataclass

from simpod.api.group import Kind
from simpod.api.schema import Schema


class ColumnType(enum.Enum):
    STRING = "string"
    INTEGER = "integer"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    """One `kubectl get` column; priority 1 shows it only with `-o wide`."""

    name: str
    json_path: str
    _: KW_ONLY
    type: ColumnType = ColumnType.STRING
    priority: int = 0


# Every kubectl table ends its default columns with AGE.
AGE = Column("Age", ".metadata.creationTimestamp", type=ColumnType.DATE)


@dataclass(frozen=True)
class Scale:
    """Where `kubectl scale` reads and writes the replica count and the selector."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str = ".status.selector"


@dataclass(frozen=True)
class Resource:
    """One kind's CRD content: `spec`/`status` schemas and how kubectl presents it."""

    kind: Kind
    description: str
    spec: Schema
    status: Schema | None
    _: KW_ONLY
    columns: tuple[Column, ...] = ()
    selectable_fields: tuple[str, ...] = ()
    scale: Scale | None = None
    # "all" puts the kind in `kubectl get all`, as core pods and workloads are.
    categories: tuple[str, ...] = ()
