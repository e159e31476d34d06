"""Many directory entries made or removed fast, for tests whose point needs thousands: the
entries are setup, not what is tested, so they go through python-ldap's asynchronous calls
on a connection of their own rather than through the adapter under test."""

import collections

import ldap


class Pipelined:
    """A connection of its own that sends many adds or deletes without waiting for each
    answer: tens of thousands of entries in seconds."""

    def __init__(self, slapd):
        self._conn = ldap.initialize(slapd.ldap_uri)
        self._conn.simple_bind_s(slapd.accounts.vmailadmin_dn,
                                 slapd.accounts.vmailadmin_password)

    def _run(self, requests):
        pending = collections.deque()
        for send in requests:
            pending.append(send())
            if len(pending) >= 200:
                self._conn.result(pending.popleft())
        while pending:
            self._conn.result(pending.popleft())

    def add(self, entries):
        self._run(lambda dn=dn, attributes=attributes: self._conn.add_ext(
            dn, [(name, [v.encode() for v in values]) for name, values in attributes.items()])
            for dn, attributes in entries)

    def delete(self, dns):
        self._run(lambda dn=dn: self._conn.delete_ext(dn) for dn in dns)

    def close(self):
        self._conn.unbind_s()
