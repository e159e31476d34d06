"""Whether replicating providers hold the same entries: every entry's DN and `entryCSN` (the
stamp of its last change, which replication copies unchanged) read from each provider, paged,
and compared with the first provider's.

Equal `contextCSN`s do not prove this: an entry written to one provider that never reached
the other (a crash between commit and replication, a database loaded offline) leaves both
reporting the same `contextCSN`. Only the entries themselves tell.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

from ..directory import Directory, Scope

Stamps = dict[str, tuple[str, Optional[str]]]  # lower-cased DN -> (DN, entryCSN)


@dataclass(frozen=True)
class Difference:
    """An entry that is not the same on the reference provider and on `provider`: `csn` is
    its entryCSN on the reference, `other_csn` on `provider` (None where it is missing)."""

    dn: str
    provider: str
    csn: Optional[str]
    other_csn: Optional[str]

    def line(self, reference: str) -> str:
        """The difference as one line of the command's report."""
        if self.other_csn is None:
            return f"missing on {self.provider}: {self.dn} (entryCSN {self.csn} on {reference})"
        if self.csn is None:
            return (f"missing on {reference}: {self.dn} (entryCSN {self.other_csn} on "
                    f"{self.provider})")
        return (f"entryCSN differs: {self.dn}: {self.csn} on {reference}, {self.other_csn} "
                f"on {self.provider}")


def stamps(directory: Directory, roots: Sequence[str],
           counted: Callable[[], None] = lambda: None) -> Iterator[tuple[str, Optional[str]]]:
    """(DN, entryCSN) of every entry at and below `roots`, streamed page by page."""
    for root in roots:
        for entry in directory.search(root, "(objectClass=*)", Scope.SUB, ["entryCSN"]):
            counted()
            yield entry.dn, entry.first("entryCSN")


def compare(reference: Iterable[tuple[str, Optional[str]]],
            other: Iterable[tuple[str, Optional[str]]], provider: str) -> list[Difference]:
    """The entries that differ between the reference provider's stamps and `provider`'s.
    Only the reference's are held in memory; the other's are streamed past them."""
    held: Stamps = {dn.lower(): (dn, csn) for dn, csn in reference}
    found = []
    for dn, csn in other:
        mine = held.pop(dn.lower(), None)
        if mine is None:
            found.append(Difference(dn, provider, None, csn))
        elif mine[1] != csn:
            found.append(Difference(mine[0], provider, mine[1], csn))
    found.extend(Difference(dn, provider, csn, None) for dn, csn in held.values())
    return sorted(found, key=lambda difference: difference.dn.lower())


def still_differing(differences: Sequence[Difference], reference: Directory,
                    others: dict[str, Directory]) -> list[Difference]:
    """Of `differences`, those that still hold when their entries are read again: a change
    that was on its way when the providers were read has arrived meanwhile."""
    remaining = []
    for difference in differences:
        csn = _csn(reference, difference.dn)
        other_csn = _csn(others[difference.provider], difference.dn)
        if csn != other_csn:
            remaining.append(Difference(difference.dn, difference.provider, csn, other_csn))
    return remaining


def _csn(directory: Directory, dn: str) -> Optional[str]:
    entry = directory.get(dn, ["entryCSN"])
    return entry.first("entryCSN") if entry is not None else None


def verify(reference: Directory, others: dict[str, Directory], roots: Sequence[str],
           recheck_after: float, counted: Callable[[], None] = lambda: None,
           sleep: Callable[[float], None] = time.sleep) -> list[Difference]:
    """Every entry below `roots` that differs between the `reference` provider and one of
    `others` (named by their URIs), read again after `recheck_after` seconds (when any
    differ) so that replication in flight is not reported."""
    found: list[Difference] = []
    for name, other in others.items():
        found += compare(stamps(reference, roots, counted), stamps(other, roots, counted), name)
    if found and recheck_after > 0:
        sleep(recheck_after)
        found = still_differing(found, reference, others)
    return found
