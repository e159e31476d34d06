"""The lookups Postfix and Dovecot make in an iRedMail directory (facts file, section 5b),
run as `cn=vmail`, read-only, as the daemons bind. They are the oracle: an account is right
only when these find (or stop finding) it."""

from typing import NamedTuple

from iredapi_ldap.directory import Ldap3Directory, Scope, escape_filter_value
from iredapi_ldap.errors import EntryNotFound

ACTIVE = "(accountStatus=active)(!(domainStatus=disabled))"
# name -> (scope, base template, filter template, result attribute); %s address, %d domain
LOOKUPS = {
    "virtual_mailbox_domains": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(|(domainName=%s)(&(enabledService=domainalias)"
        "(domainAliasName=%s)))(!(domainBackupMX=yes))(accountStatus=active)"
        "(enabledService=mail))", "domainName"),
    "virtual_mailbox_maps": (
        Scope.SUB, "{base}",
        "(&(objectClass=mailUser)(|(mail=%s)(shadowAddress=%s))" + ACTIVE +
        "(enabledService=mail)(enabledService=deliver))", "homeDirectory"),
    "virtual_alias_maps": (
        Scope.SUB, "{base}",
        "(&(|(mail=%s)(shadowAddress=%s))" + ACTIVE + "(enabledService=mail)"
        "(enabledService=deliver)(|(objectClass=mailAlias)(&(objectClass=mailUser)"
        "(enabledService=forward))))", "mailForwardingAddress"),
    "virtual_group_maps": (
        Scope.SUB, "{base}",
        "(&(accountStatus=active)(!(domainStatus=disabled))(enabledService=mail)"
        "(enabledService=deliver)(|(&(|(memberOfGroup=%s)(shadowAddress=%s))"
        "(|(objectClass=mailUser)(objectClass=mailExternalUser)))(&(memberOfGroup=%s)"
        "(!(shadowAddress=%s))(|(objectClass=mailAlias)(objectClass=mailList)))"
        "(&(objectClass=mailList)(enabledService=mlmmj)(|(mail=%s)(shadowAddress=%s)))))",
        "mail"),
    "catchall_maps": (
        Scope.SUB, "{base}",
        "(&(objectClass=mailUser)" + ACTIVE + "(|(mail=%s)(shadowAddress=%s)))",
        "mailForwardingAddress"),
    "sender_bcc_maps_domain": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(|(domainName=%d)(domainAliasName=%d))"
        "(accountStatus=active)(enabledService=mail)(enabledService=senderbcc))",
        "domainSenderBccAddress"),
    "recipient_bcc_maps_domain": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(|(domainName=%d)(domainAliasName=%d))"
        "(accountStatus=active)(enabledService=mail)(enabledService=recipientbcc))",
        "domainRecipientBccAddress"),
    "sender_bcc_maps_user": (
        Scope.ONE, "ou=Users,domainName=%d,{base}",
        "(&(|(mail=%s)(shadowAddress=%s))(objectClass=mailUser)" + ACTIVE +
        "(enabledService=mail)(enabledService=senderbcc))", "userSenderBccAddress"),
    "recipient_bcc_maps_user": (
        Scope.ONE, "ou=Users,domainName=%d,{base}",
        "(&(|(mail=%s)(shadowAddress=%s))(objectClass=mailUser)" + ACTIVE +
        "(enabledService=mail)(enabledService=recipientbcc))", "userRecipientBccAddress"),
    "sender_dependent_relayhost_maps_domain": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(accountStatus=active)(enabledService=mail)"
        "(|(domainName=%d)(domainAliasName=%d)))", "senderRelayHost"),
    "transport_maps_domain": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(accountStatus=active)(enabledService=mail)"
        "(|(domainName=%s)(domainAliasName=%s)))", "mtaTransport"),
    "relay_domains": (
        Scope.ONE, "{base}",
        "(&(objectClass=mailDomain)(|(domainName=%s)(&(enabledService=domainalias)"
        "(domainAliasName=%s)))(domainBackupMX=yes)(accountStatus=active)"
        "(enabledService=mail))", "domainName"),
}
DOVECOT = ("(&(objectClass=mailUser)" + ACTIVE + "(enabledService=mail)"
           "(enabledService=%Ls%Lc)(|(mail=%u)(&(enabledService=shadowaddress)"
           "(shadowAddress=%u))))")


class Route(NamedTuple):
    """Where Postfix sends mail for a domain it relays: the master.cf service, the next hop,
    and whether it looks the next hop's MX records up in DNS."""

    transport: str
    next_hop: str
    by_mx: bool


class MailStack:
    def __init__(self, slapd):
        acc = slapd.accounts
        self._base = acc.domains_dn
        self._ldap = Ldap3Directory((slapd.ldap_uri,), acc.vmail_dn, acc.vmail_password)

    def lookup(self, table, key):
        """The sorted result values Postfix would get for `key` from `table`."""
        scope, base, template, attribute = LOOKUPS[table]
        domain = key.rsplit("@", 1)[-1]
        search_filter = (template.replace("%s", escape_filter_value(key))
                         .replace("%d", escape_filter_value(domain)))
        base = base.replace("%d", domain).format(base=self._base)
        try:
            return sorted(value for entry in self._ldap.search(base, search_filter, scope,
                                                               [attribute])
                          for value in entry.get(attribute))
        except EntryNotFound:  # no such search base: Postfix finds nothing either
            return []

    def dovecot_finds(self, user, service="imap"):
        """Whether Dovecot's passdb/userdb lookup finds `user` for `service`."""
        search_filter = (DOVECOT.replace("%Ls%Lc", escape_filter_value(service))
                         .replace("%u", escape_filter_value(user)))
        return bool(list(self._ldap.search(self._base, search_filter, Scope.SUB, ["mail"])))

    def route(self, address):
        """How Postfix routes mail for `address` of a domain it relays (relay_domains finds
        it), as transport(5) reads transport_maps_domain's `transport:nexthop`: no result
        means relay_transport (`relay`) to the recipient's domain; an empty next hop is the
        recipient's domain; `[host]` (with or without `:port`) is that host without an MX
        lookup, any other next hop is looked up by MX. None when Postfix does not relay
        the domain."""
        domain = address.rsplit("@", 1)[-1]
        if not self.lookup("relay_domains", domain):
            return None
        found = self.lookup("transport_maps_domain", domain)
        transport, _, next_hop = found[0].partition(":") if found else ("relay", "", "")
        next_hop = next_hop or domain
        return Route(transport or "relay", next_hop, not next_hop.startswith("["))
