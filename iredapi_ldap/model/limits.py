"""A domain's limits as its `accountSetting` states them (facts file, section 3.1). Pure."""

from dataclasses import dataclass

from .draft import EntryDraft
from .fields import MB
from .parsing import stored_int


@dataclass(frozen=True)
class DomainLimits:
    """The limits in a domain's accountSetting (0: unlimited; -1: none may be created)."""

    settings: dict        # the domain's accountSetting
    max_user_quota: int   # bytes, 0 = unlimited
    domain_quota: int     # bytes, 0 = unlimited
    default_quota: int    # bytes

    @classmethod
    def of(cls, entry):
        settings = EntryDraft.of(entry).settings()
        quota = str(settings.get("domainQuota", "0")).split(":")[0]
        return cls(settings=settings,
                   max_user_quota=stored_int(settings.get("maxUserQuota")) * MB,
                   domain_quota=stored_int(quota) * MB,
                   default_quota=stored_int(settings.get("defaultQuota")) * MB)

    def max_accounts(self, kind):
        """The domain's limit of accounts of `kind` (a model.kinds.Kind)."""
        return stored_int(self.settings.get(kind.domain_limit))
