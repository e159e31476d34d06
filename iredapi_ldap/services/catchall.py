"""The catch-all of a domain: the `mail=@domain` entry in ou=Users whose
`mailForwardingAddress` receives mail for unknown addresses (Postfix catchall_maps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..addresses import domain_of
from ..directory import Change, Op
from ..errors import BadRequest, Code, EntryNotFound
from ..model.fields import Email
from ..model.kinds import CATCHALL
from ..model.parsing import split_words
from . import references
from .repository import Repository

if TYPE_CHECKING:
    from ..model.draft import EntryDraft


class CatchAll:
    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def _dn(self, domain: str) -> str:
        return self._repo.dn(CATCHALL, "@" + domain)

    def targets(self, domain: str) -> list[str]:
        entry = self._repo.directory.get(self._dn(domain), ["mailForwardingAddress"])
        return [] if entry is None else entry.get("mailForwardingAddress")

    def plan(self, domain: str, text: str, domain_draft: EntryDraft) -> _CatchAllWrite:
        """Check the new targets now; `write()` of the result stores them (empty: remove).

        In-domain targets (the domain or its alias domains) must exist.
        """
        targets = [Email(allow_empty=False).encode("catchall", t)[0] for t in split_words(text)]
        own = {domain, *(a.lower() for a in domain_draft.get("domainAliasName"))}
        for target in targets:
            if domain_of(target) in own and references.owner_of(
                    self._repo, target) is None:
                raise BadRequest(Code.INVALID_CATCHALL,
                                 detail=f"catch-all target {target} does not exist")
        return _CatchAllWrite(self, domain, targets, domain_draft)


class _CatchAllWrite:
    def __init__(self, catchall: CatchAll, domain: str, targets: list[str],
                 domain_draft: EntryDraft) -> None:
        self._catchall = catchall
        self._domain = domain
        self._targets = targets
        self._aliases = [a.lower() for a in domain_draft.get("domainAliasName")]
        self._disabled = domain_draft.first("accountStatus") == "disabled"

    def write(self) -> None:
        directory, dn = self._catchall._repo.directory, self._catchall._dn(self._domain)
        if not self._targets:
            try:
                directory.delete(dn)
            except EntryNotFound:
                pass
            return
        if directory.get(dn, ["1.1"]) is not None:
            directory.modify(dn, [Change("mailForwardingAddress", Op.REPLACE,
                                         tuple(self._targets))])
            return
        attributes = {
            "objectClass": list(CATCHALL.object_classes), "mail": ["@" + self._domain],
            "uid": ["catch-all"], "cn": ["catch-all"], "sn": ["catch-all"],
            "accountStatus": ["active"], "mailForwardingAddress": self._targets,
            "shadowAddress": ["@" + alias for alias in self._aliases]}
        if self._disabled:
            attributes["domainStatus"] = ["disabled"]
        directory.add(dn, attributes)
