"""The admin log of writes, kept in iRedAdmin's `log` table as iRedAdmin itself keeps it:
one row per change, with the admin, the client's address, the domain and account it
touched, an event of iRedAdmin's (`create`, `delete`, `update`, `active`, `disable`,
`grant`, `revoke`), loglevel `info`, a message prefixed `[API] ` (as iRedAdmin's own API
prefixes it) and the time in UTC. Logins are recorded by `logins.py`."""

import dataclasses
import datetime

from sqlalchemy import bindparam, insert

from .engine import Databases
from .tables import log

API_PREFIX = "[API] "

_RECORD = insert(log).values(
    admin=bindparam("admin"), ip=bindparam("ip"), domain=bindparam("domain"),
    username=bindparam("username"), event=bindparam("event"), loglevel="info",
    msg=bindparam("msg"), timestamp=bindparam("timestamp"))


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """One change, as the admin log shows it. `msg` names what changed, never a value of a
    secret."""

    admin: str
    ip: str
    event: str
    msg: str
    domain: str = ""
    username: str = ""


class AuditLog:
    """Writes `AuditEntry`s into iRedAdmin's `log` table (`databases`: an
    `engine.Databases` with an 'iredadmin' database)."""

    def __init__(self, databases: Databases) -> None:
        self._databases = databases

    def record(self, entry: AuditEntry, now: float) -> None:
        """Write one row, in a transaction of its own (`now`: epoch seconds), whose commit
        does not wait for the disk (`Databases.write`, durable=False): the row is seen at
        once, and only a crash of the machine (or of PostgreSQL) right after may lose it,
        as the admin log already gives way to the write it records when it cannot be
        written. Raises what `Databases.write` raises (DATABASE_UNAVAILABLE, ...)."""
        values = {"admin": entry.admin[:255], "ip": entry.ip[:40],
                  "domain": entry.domain[:255], "username": entry.username[:255],
                  "event": entry.event[:20], "msg": API_PREFIX + entry.msg,
                  "timestamp": datetime.datetime.fromtimestamp(
                      now, datetime.timezone.utc).replace(tzinfo=None)}
        self._databases.write("iredadmin", lambda conn: conn.execute(_RECORD, values),
                              durable=False)
