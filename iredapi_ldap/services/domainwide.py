"""Changes that touch every account of a domain (DESIGN.md section 6).

Each streams the accounts from a paged search, is idempotent (its filter skips what is done,
so repeating the request finishes an interrupted one), and reports how many entries it
changed and which it could not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..directory import Change, Directory, Entry, Op, Scope, escape_filter_value
from ..errors import ApiError, DirectoryUnavailable
from ..model.kinds import ADDRESSED, ALIAS, EXTERNALS, LIST, USER, any_of

if TYPE_CHECKING:
    from .repository import Repository

log = logging.getLogger(__name__)

# Every kind of entry that carries `domainStatus` (facts file, section 3.1).
ACCOUNTS = any_of(USER, LIST, ALIAS, EXTERNALS)


@dataclass
class BulkResult:
    changed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def merge(self, other: BulkResult) -> BulkResult:
        self.changed += other.changed
        self.failed.extend(other.failed)
        return self

    def as_data(self) -> dict[str, object]:
        return {"changed": self.changed, "failed": self.failed}


def each_entry(directory: Directory, base: str, search_filter: str, attributes: Sequence[str],
               change_for: Callable[[Entry], list[Change] | None],
               scope: Scope = Scope.SUB) -> BulkResult:
    """Apply `change_for(entry)` (a list of Changes, or None) to every matching entry; an
    API error from either (e.g. PERMISSION_DENIED for one account) is reported in
    `failed` and the others go on."""
    result = BulkResult()
    for entry in directory.search(base, search_filter, scope, attributes):
        try:
            changes = change_for(entry)
            if not changes:
                continue
            directory.modify(entry.dn, changes)
            result.changed += 1
        except DirectoryUnavailable:
            raise
        except ApiError as exc:
            log.warning("domain-wide change failed on %s: %s", entry.dn, exc)
            result.failed.append({"dn": entry.dn, "_msg": exc.code})
    return result


def set_accounts_status(repo: Repository, domain: str, disabled: bool) -> BulkResult:
    """Add (or remove) `domainStatus: disabled` on every account under the domain."""
    if disabled:
        wanted = f"(&{ACCOUNTS}(!(domainStatus=disabled)))"
        change = [Change("domainStatus", Op.REPLACE, ("disabled",))]
    else:
        wanted = f"(&{ACCOUNTS}(domainStatus=disabled))"
        change = [Change("domainStatus", Op.DELETE)]
    return each_entry(repo.directory, repo.domain_dn(domain), wanted, ["1.1"], lambda entry: change)


def add_alias_domain_addresses(repo: Repository, domain: str, alias: str) -> BulkResult:
    """Give every address of the domain its twin in alias domain `alias` (shadowAddress)."""
    def change_for(entry: Entry) -> list[Change] | None:
        twins = [_twin(mail, alias) for mail in entry.get("mail") if mail.endswith("@" + domain)]
        missing = [t for t in twins if not entry.has_value("shadowAddress", t)]
        return [Change("shadowAddress", Op.ADD, tuple(missing))] if missing else None
    search = f"(&{ADDRESSED}(mail=*@{escape_filter_value(domain)}))"
    return each_entry(repo.directory, repo.domain_dn(domain), search, ["mail", "shadowAddress"],
                      change_for)


def remove_alias_domain_addresses(repo: Repository, domain: str, alias: str) -> BulkResult:
    """Remove every address in alias domain `alias` from the accounts of the domain."""
    def change_for(entry: Entry) -> list[Change] | None:
        gone = [a for a in entry.get("shadowAddress") if a.lower().endswith("@" + alias)]
        return [Change("shadowAddress", Op.DELETE, tuple(gone))] if gone else None
    search = f"(&{ADDRESSED}(shadowAddress=*@{escape_filter_value(alias)}))"
    return each_entry(repo.directory, repo.domain_dn(domain), search, ["shadowAddress"], change_for)


def _twin(mail: str, alias: str) -> str:
    return mail.rsplit("@", 1)[0] + "@" + alias
