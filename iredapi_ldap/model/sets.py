"""Set-valued parameters: the whole set, or items to add and items to remove. Pure.

Many API values are sets that a request either replaces (`members=a,b`) or edits
(`addMember=c`, `removeMember=a`, sometimes `removeAllServices`). A `SetParam` names the
parameters of one such set and the codec of one item; `SetParam.change(params)` checks the
request (the whole set goes alone: one CONFLICTING_PARAMETERS message for every set) and
returns a `SetChange`, which says what a current set becomes and which items that adds and
removes. Items are compared without regard to case, as LDAP compares addresses and names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import BadRequest, Code
from .fields import Codec
from .parsing import split_words

# What a remove-all parameter may say: nothing, or yes.
REMOVE_ALL_WORDS = ("", "yes", "true", "1")


def _unique(items: Iterable[str]) -> list[str]:
    """`items` without repeats (compared without case), first spelling and order kept."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())


@dataclass(frozen=True)
class SetChange:
    """What one request does to a set: replace it (`whole`), or take `remove` from it and
    give it `add`, or empty it (`remove_all`, then give it `add`)."""

    whole: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    remove_all: bool = False

    @property
    def named(self) -> tuple[str, ...]:
        """Every item the change names (the whole set's, or those added and removed)."""
        return self.whole if self.whole is not None else self.add + self.remove

    def result(self, current: Sequence[str]) -> list[str]:
        """The set after the change. `remove` takes its items from `current` and `add`
        appends those `current` lacks (so an item both added and removed goes if it was
        there, and comes if it was not); order kept, repeats dropped."""
        if self.remove_all:
            return _unique(self.add)
        if self.whole is not None:
            return _unique(self.whole)
        present = {item.lower() for item in current}
        removed = {item.lower() for item in self.remove}
        return _unique([item for item in current if item.lower() not in removed]
                       + [item for item in self.add if item.lower() not in present])

    def difference(self, current: Sequence[str]) -> tuple[list[str], list[str]]:
        """(added, removed): the items the change adds to `current` and takes from it, in
        the order of the result and of `current`."""
        after = self.result(current)
        before = {item.lower() for item in current}
        kept = {item.lower() for item in after}
        return ([item for item in after if item.lower() not in before],
                _unique(item for item in current if item.lower() not in kept))


@dataclass(frozen=True)
class SetParam:
    """The parameters of one set: `whole` replaces it, `add` and `remove` edit it,
    `remove_all` empties it (None: the API has no such parameter). `item` encodes each
    comma-separated item: `item.encode(param, text) -> [value]`. `remove_all_alone`: False
    where the API lets remove-all come with `add` (empty, then add: a domain's admins)."""

    whole: str | None
    add: str | None
    remove: str | None
    remove_all: str | None
    item: Codec
    remove_all_alone: bool = True

    def params(self) -> tuple[str, ...]:
        """The parameter names this set answers to."""
        return tuple(p for p in (self.whole, self.add, self.remove, self.remove_all) if p)

    def change(self, params: Mapping[str, str]) -> SetChange | None:
        """The change `params` asks for, or None when they name none of this set's
        parameters. The whole set or remove-all together with another of them is
        CONFLICTING_PARAMETERS (remove-all, unless `remove_all_alone` is False); a bad item
        is the codec's error."""
        given = [p for p in self.params() if p in params]
        if not given:
            return None
        if self.remove_all in given and \
                str(params[self.remove_all]).strip().lower() not in REMOVE_ALL_WORDS:
            raise BadRequest(detail=f"{self.remove_all} takes no value (or yes): "
                                    f"leave it out to keep the {self.whole or 'items'}")
        alone = [p for p in (self.whole, self.remove_all if self.remove_all_alone else None)
                 if p and p in given]
        if alone and len(given) > 1:
            others = [p for p in given if p != alone[0]]
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail=f"{alone[0]} conflicts with {', '.join(others)}")
        if self.remove_all in given:
            return SetChange(remove_all=True, add=self._items(self.add, params))
        if self.whole in given:
            return SetChange(whole=self._items(self.whole, params))
        return SetChange(add=self._items(self.add, params),
                         remove=self._items(self.remove, params))

    def given(self, params: Mapping[str, str]) -> SetChange:
        """`change(params)` of a request known to name this set (a rule applied for one
        of its parameters)."""
        change = self.change(params)
        if change is None:
            raise ValueError(f"none of {', '.join(self.params())} is given")
        return change

    def _items(self, param: str | None, params: Mapping[str, str]) -> tuple[str, ...]:
        if param is None or param not in params:
            return ()
        return tuple(_unique(value for word in split_words(params[param])
                             for value in self.item.encode(param, word)))
