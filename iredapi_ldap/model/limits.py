"""A domain's limits as its `accountSetting` states them (facts file, section 3.1). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from .draft import EntryDraft
from .fields import MB
from .parsing import stored_int

if TYPE_CHECKING:
    from ..directory.base import Entry
    from .draft import Setting
    from .params import Kind


@dataclass(frozen=True)
class DomainLimits:
    """The limits in a domain's accountSetting (0: unlimited; -1: none may be created)."""

    settings: dict[str, Setting]  # the domain's accountSetting
    max_user_quota: int   # bytes, 0 = unlimited
    domain_quota: int     # bytes, 0 = unlimited
    default_quota: int    # bytes

    @classmethod
    def of(cls, entry: Entry | None) -> Self:
        settings = EntryDraft.of(entry).settings()
        quota = str(settings.get("domainQuota", "0")).split(":")[0]
        return cls(settings=settings,
                   max_user_quota=stored_int(settings.get("maxUserQuota")) * MB,
                   domain_quota=stored_int(quota) * MB,
                   default_quota=stored_int(settings.get("defaultQuota")) * MB)

    def max_accounts(self, kind: Kind) -> int:
        """The domain's limit of accounts of `kind` (a model.kinds.Kind)."""
        # A kind without a domain limit (None) has none here: 0, unlimited.
        return stored_int(self.settings.get(kind.domain_limit)
                          if kind.domain_limit is not None else None)
