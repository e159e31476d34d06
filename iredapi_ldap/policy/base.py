"""The policy-store contract the services are written against (DESIGN.md section 4).

Rows are plain dicts of column values; accounts are policy keys (`user@domain`, `@domain`,
`@.`: see `accounts.py`). Implementation: `store.SqlPolicyStore`. Each method may raise
`errors.ServiceUnavailable` (DATABASE_UNAVAILABLE) or `errors.ConcurrentUpdate`.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Protocol, runtime_checkable

Row = dict[str, Any]


@dataclass(frozen=True)
class MailboxUsage:
    """What Dovecot recorded of a mailbox in iRedAdmin's database: the size and message
    count its quota counts (`used_quota`; 0 and 0 until Dovecot records them) and, by
    protocol (`imap`, `pop3`, `lda`), the time of its last login in epoch seconds
    (`last_login`; None without a row, a protocol None when never used)."""

    bytes: int = 0
    messages: int = 0
    last_login: Optional[dict[str, Optional[int]]] = None


@runtime_checkable
class PolicyStore(Protocol):
    """Spam policy, white/blacklists, throttling, greylisting and deleted-mailbox records."""

    # -- Amavisd spam policy
    def get_spam_policy(self, account: str) -> Optional[Row]:
        """The policy columns of `account` (None for NULL), or None when it has none."""

    def put_spam_policy(self, account: str, columns: Mapping[str, Any]) -> None:
        """Set these policy columns of `account`, creating its policy if need be."""

    def delete_spam_policy(self, account: str) -> bool:
        """Remove the account's policy; whether there was one."""

    # -- Amavisd white/blacklists (`direction`: 'inbound' or 'outbound'; `wb`: 'W' or 'B')
    def wblist(self, account: str, direction: str, wb: str) -> list[str]:
        """The addresses on the account's list, sorted."""

    def add_to_wblist(self, account: str, direction: str, wb: str,
                      addresses: Sequence[str]) -> None:
        """Put `addresses` on the account's list, and off the other list of the direction."""

    def remove_from_wblist(self, account: str, direction: str, wb: str,
                           addresses: Optional[Sequence[str]] = None) -> None:
        """Take `addresses` (None: all of them) off the account's list."""

    # -- iRedAPD throttling (`kind`: 'inbound' or 'outbound')
    def get_throttle(self, account: str, kind: str) -> Optional[Row]:
        """The throttle columns of `account` for `kind`, or None when it has none."""

    def set_throttle(self, account: str, kind: str, columns: Mapping[str, Any]) -> None:
        """Set these columns of the account's throttle of `kind`."""

    def delete_throttle(self, account: str, kind: str) -> bool:
        """Remove the account's throttle of `kind`; whether there was one."""

    # -- iRedAPD greylisting
    def greylisting_settings(self) -> list[Row]:
        """Every greylisting row: [{'account', 'sender', 'active', 'comment'}, ...]."""

    def get_greylisting(self, account: str) -> Optional[bool]:
        """True/False for an explicit setting of `account`, None when it inherits."""

    def set_greylisting(self, account: str, active: bool) -> None:
        """Turn greylisting of `account` on or off explicitly."""

    def delete_greylisting(self, account: str) -> bool:
        """Drop the explicit setting of `account`; whether there was one."""

    def greylisting_whitelists(self, account: str) -> list[str]:
        """The senders whitelisted for `account`, sorted."""

    def update_greylisting_whitelists(self, account: str,
                                      replace: Optional[Iterable[str]] = None,
                                      add: Iterable[str] = (),
                                      remove: Iterable[str] = ()) -> list[str]:
        """Replace, or add to and remove from, the account's whitelisted senders; returns
        them, sorted."""

    def whitelist_spf_domains(self) -> list[str]:
        """The domains whose SPF hosts skip greylisting, sorted."""

    def update_whitelist_spf_domains(self, replace: Optional[Iterable[str]] = None,
                                     add: Iterable[str] = (),
                                     remove: Iterable[str] = ()) -> list[str]:
        """Replace, or add to and remove from, those domains; returns them, sorted."""

    # -- accounts that go away or change their address
    def forget_accounts(self, addresses: Iterable[str]) -> None:
        """Remove every policy row of these accounts."""

    def rename_account(self, old: str, new: str) -> None:
        """Move every policy row of `old` to `new` (idempotent)."""

    # -- iRedAdmin deleted mailboxes
    def kept_mailbox_near(self, path: str) -> Optional[Row]:
        """A deleted_mailboxes row whose mailbox is `path`, lies above it or inside it."""

    def due_mailboxes(self, today: datetime.date) -> list[Row]:
        """deleted_mailboxes rows whose purge date has come."""

    def forget_deleted_mailbox(self, row_id: int) -> None:
        """Remove one deleted_mailboxes row."""

    def deleted_mailboxes(self) -> list[Row]:
        """Every deleted_mailboxes row, oldest first."""

    # -- what Dovecot records of mailboxes (iRedAdmin's used_quota and last_login)
    def mailbox_usage(self, addresses: Sequence[str]) -> dict[str, MailboxUsage]:
        """{address: MailboxUsage} of those of `addresses` (lower case) that Dovecot
        recorded; one query, however many addresses."""
