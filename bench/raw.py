"""The raw LDAP operations the API is compared with: the one operation a client would send
for the same effect, with ldap3 (what the API uses) and with python-ldap (libldap, C)."""

import ldap
import ldap3
from ldap.controls import AssertionControl, SimplePagedResultsControl
from ldap.controls.readentry import PostReadControl
from ldap.modlist import addModlist

PAGE = 500


def _server_address(uri):
    return uri.rstrip("/")


class RawLdap3:
    def __init__(self, uri, dn, password):
        self.conn = ldap3.Connection(ldap3.Server(_server_address(uri), get_info=ldap3.NONE),
                                     dn, password, auto_bind=True, raise_exceptions=True)

    def bind(self, dn, password):
        self.conn.rebind(dn, password)

    def read(self, dn):
        self.conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["*"])
        return self.conn.response[0]

    def add(self, dn, attrs):
        self.conn.add(dn, attributes=attrs)

    def modify(self, dn, attr, value):
        self.conn.modify(dn, {attr: [(ldap3.MODIFY_REPLACE, [value])]})

    def page_through(self, base, search_filter="(objectClass=*)"):
        count = 0
        for _ in self.conn.extend.standard.paged_search(base, search_filter, ldap3.LEVEL,
                                                        attributes=["*"], paged_size=PAGE,
                                                        generator=True):
            count += 1
        return count


class RawPythonLdap:
    def __init__(self, uri, dn, password):
        self.conn = ldap.initialize(uri)
        self.conn.simple_bind_s(dn, password)

    def bind(self, dn, password):
        self.conn.simple_bind_s(dn, password)

    def read(self, dn):
        return self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["*"])[0]

    def add(self, dn, attrs):
        self.conn.add_s(dn, addModlist({k: [v.encode() for v in vs] for k, vs in attrs.items()}))

    def modify(self, dn, attr, value):
        self.conn.modify_s(dn, [(ldap.MOD_REPLACE, attr, [value.encode()])])

    def increment_read(self, dn, attr, quota_sum=None):
        """`attr` one up (RFC 4525), read back by the same operation (RFC 4527): the
        counter write that is exact without a retry; returns the new value. `quota_sum`:
        (used, quota), the text quota sum `used` also replaced by `used + quota` while it
        still holds `used` (RFC 4528), and the limits read back too: what an exact create
        writes before its add (ldap.ASSERTION_FAILED when the sum was not `used`)."""
        changes, controls = [(ldap.MOD_INCREMENT, attr, [b"1"])], []
        if quota_sum is not None:
            used, quota = quota_sum
            changes.append((ldap.MOD_REPLACE, "domainCurrentQuotaSize",
                            [str(used + quota).encode()]))
            controls.append(AssertionControl(True, f"(domainCurrentQuotaSize={used})"))
        read = [attr] if quota_sum is None else [attr, "accountSetting"]
        controls.append(PostReadControl(criticality=True, attrList=read))
        _, _, _, replies = self.conn.modify_ext_s(dn, changes, serverctrls=controls)
        post_read = next(c for c in replies if isinstance(c, PostReadControl))
        return int(post_read.entry[attr][0])

    def exists(self, dn):
        """Whether the entry at `dn` exists (a base read of no attribute)."""
        try:
            self.conn.search_ext_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
            return True
        except ldap.NO_SUCH_OBJECT:
            return False

    def find(self, base, search_filter):
        """The DNs a subtree search for `search_filter` finds below `base`."""
        return [dn for dn, _ in self.conn.search_ext_s(base, ldap.SCOPE_SUBTREE, search_filter,
                                                       ["1.1"])]

    def page_through(self, base, search_filter="(objectClass=*)"):
        control, count = SimplePagedResultsControl(True, size=PAGE, cookie=""), 0
        while True:
            msgid = self.conn.search_ext(base, ldap.SCOPE_ONELEVEL, search_filter, ["*"],
                                         serverctrls=[control])
            _, data, _, controls = self.conn.result3(msgid)
            count += len(data)
            cookie = next((c.cookie for c in controls
                           if c.controlType == SimplePagedResultsControl.controlType), b"")
            if not cookie:
                return count
            control.cookie = cookie
