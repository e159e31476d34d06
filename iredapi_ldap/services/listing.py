"""What the listings share: a page of a listing (a sorted window of its entries, by the
kind's naming attribute), and work done on a stream in batches, so that a listing costs one
extra query per batch instead of one per entry."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from ..directory import Entry, Scope, Window, WindowResult

if TYPE_CHECKING:
    from ..model.params import Kind
    from .repository import Repository

T = TypeVar("T")
BATCH = 500  # entries per extra query: the directory's page size


def batched(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def page(repo: Repository, kind: Kind, base: str, search_filter: str, after: str | None,
         limit: int, names_only: bool,
         transform: Callable[[Entry], Entry] = lambda entry: entry) -> WindowResult:
    """The `limit` entries of `kind` under `base` (one level) matching `search_filter`
    whose names (`kind.rdn`: `mail`, or `domainName`) come first after `after`, in name
    order; only their names with `names_only`. `transform` is applied to each."""
    result = repo.directory.search_window(base, search_filter, Scope.ONE,
                                          Window(kind.rdn, after, limit),
                                          [kind.rdn] if names_only else None)
    return dataclasses.replace(result, entries=[transform(e) for e in result.entries])
