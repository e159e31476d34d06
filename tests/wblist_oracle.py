"""What the mail stack decides from the white/blacklist tables: the oracle of the wblist
tests. Each function runs the daemon's own SQL against the Amavisd database.

- Amavisd (README.sql, README.lookups; amavisd.conf defaults): the policy lookup
  `$sql_select_policy` finds the recipient's `users` rows by its lookup keys, most
  important first (`ORDER BY users.priority DESC`); for each row in turn,
  `$sql_select_white_black_list` looks the sender's keys up in its `wblist` rows, most
  specific sender first (`ORDER BY mailaddr.priority DESC`); the first row found decides.
  Amavisd knows no IP addresses here.
- iRedAPD's `amavisd_wblist` plugin (plugins/amavisd_wblist.py): the same tables at SMTP
  time, with the client's IP address and the IPv4 networks that hold it as senders too, and
  `outbound_wblist` for mail a local user sends (sasl_username).
"""

import ipaddress

from sqlalchemy import bindparam, create_engine, text

from iredapi_ldap.policy.accounts import amavisd_lookup_keys

SELECT_POLICY = ("SELECT *, users.id FROM users LEFT JOIN policy ON users.policy_id=policy.id "
                 "WHERE users.email IN :keys ORDER BY users.priority DESC")
SELECT_WHITE_BLACK_LIST = ("SELECT wb FROM wblist JOIN mailaddr ON wblist.sid=mailaddr.id "
                           "WHERE wblist.rid=:rid AND mailaddr.email IN :keys "
                           "ORDER BY mailaddr.priority DESC")
# iRedAPD's queries.
LOCAL_IDS = "SELECT id, email FROM users WHERE email IN :keys ORDER BY priority DESC"
EXTERNAL_IDS = "SELECT id, email FROM mailaddr WHERE email IN :keys ORDER BY priority DESC"
CIDR_CANDIDATES = "SELECT id, email FROM mailaddr WHERE email LIKE :pattern ORDER BY priority DESC"
INBOUND = "SELECT rid, sid, wb FROM wblist WHERE sid IN :senders AND rid IN :recipients"
OUTBOUND = ("SELECT rid, sid, wb FROM outbound_wblist WHERE sid IN :senders "
            "AND rid IN :recipients")


class Lookups:
    """The daemons' lookups on the Amavisd database at `url`."""

    def __init__(self, url):
        self._engine = create_engine(url)
        self._binary = self._engine.dialect.name in ("mysql", "mariadb")  # VARBINARY columns

    def close(self):
        self._engine.dispose()

    def _rows(self, sql, **params):
        statement = text(sql)
        for name, value in params.items():
            if isinstance(value, list):
                statement = statement.bindparams(bindparam(name, expanding=True))
                if self._binary:
                    params[name] = [v.encode() if isinstance(v, str) else v for v in value]
            elif self._binary and isinstance(value, str):
                params[name] = value.encode()
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(statement, params)]

    # -- Amavisd ---------------------------------------------------------------------------

    def amavisd_policy(self, recipient, field):
        """The value of the policy column `field` Amavisd uses for `recipient`: the first
        non-NULL one of its `users` rows' policies."""
        statement = text(SELECT_POLICY).bindparams(bindparam("keys", expanding=True))
        keys = amavisd_lookup_keys(recipient)
        with self._engine.connect() as conn:
            rows = conn.execute(statement, {"keys": [k.encode() for k in keys]
                                            if self._binary else keys}).mappings().all()
        return next((row[field] for row in rows if row[field] is not None), None)

    def amavisd(self, sender, recipient):
        """'W', 'B' or None: Amavisd's verdict on mail from `sender` to `recipient`."""
        users = self._rows(SELECT_POLICY, keys=amavisd_lookup_keys(recipient))
        for user_id in (row[-1] for row in users):
            found = self._rows(SELECT_WHITE_BLACK_LIST, rid=user_id,
                               keys=amavisd_lookup_keys(sender))
            if found:
                return found[0][0]
        return None

    # -- iRedAPD ---------------------------------------------------------------------------

    def _ids(self, sql, keys):
        return [row[0] for row in self._rows(sql, keys=keys)]

    def _networks_holding(self, client):
        ip = ipaddress.ip_address(client)
        if ip.version != 4:  # the plugin looks for IPv4 networks only
            return []
        ids = []
        for row_id, email in self._rows(CIDR_CANDIDATES, pattern=client.split(".")[0] + ".%"):
            email = email.decode() if isinstance(email, bytes) else email
            try:
                if ip in ipaddress.ip_network(email):
                    ids.append(row_id)
            except ValueError:
                continue
        return ids

    @staticmethod
    def _decide(rows, outer, inner, key):
        found = {(rid, sid, wb) for rid, sid, wb in rows}
        for first in outer:
            for second in inner:
                rid, sid = key(first, second)
                for wb in ("W", "B"):
                    if (rid, sid, wb) in found:
                        return wb
        return None

    def iredapd_inbound(self, sender, client, recipient):
        """'W', 'B' or None: the plugin's verdict on mail from `sender` at IP `client` (not
        authenticated) to the local `recipient`."""
        recipients = self._ids(LOCAL_IDS, amavisd_lookup_keys(recipient))
        if not recipients:
            return None
        local = sender.split("@")[0].split("+")[0]
        senders = self._ids(EXTERNAL_IDS, [*amavisd_lookup_keys(sender), local + "@*", client])
        senders += self._networks_holding(client)
        if not senders:
            return None
        rows = self._rows(INBOUND, senders=senders, recipients=recipients)
        return self._decide(rows, recipients, senders, lambda rid, sid: (rid, sid))

    def iredapd_outbound(self, sender, client, recipient):
        """'W', 'B' or None: the plugin's verdict on mail the local `sender` (logged in, at
        IP `client`) sends to `recipient`."""
        senders = self._ids(LOCAL_IDS, [*amavisd_lookup_keys(sender), client])
        if not senders:
            return None
        recipients = self._ids(EXTERNAL_IDS, amavisd_lookup_keys(recipient))
        senders += self._networks_holding(client)
        if not recipients:
            return None
        rows = self._rows(OUTBOUND, senders=senders, recipients=recipients)
        return self._decide(rows, senders, recipients, lambda sid, rid: (rid, sid))
