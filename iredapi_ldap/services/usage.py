"""How what Dovecot recorded of a mailbox appears in a user's profile."""

from __future__ import annotations

from ..policy.base import MailboxUsage


def usage_fields(usage: MailboxUsage | None) -> dict[str, object]:
    """`used_quota` ({"size": bytes, "messages": count}; zeros until Dovecot records them)
    and `last_login` ({"imap", "pop3", "lda"}: epoch seconds or null; null without a
    record) of a profile."""
    found = usage or MailboxUsage()
    return {"used_quota": {"size": found.bytes, "messages": found.messages},
            "last_login": dict(found.last_login) if found.last_login is not None else None}
