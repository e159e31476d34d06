"""What each LDIF export endpoint exports, and who may export it."""

from ..addresses import domain_of
from ..directory import Entry
from ..errors import Code, NotFound
from ..model.kinds import BY_API_NAME, CATCHALL, EXTERNALS
from ..model.parsing import parse_domain, parse_user_mail
from ..model.profiles import DOMAIN_PROFILES, DOMAIN_SETTING, USER_PROFILES, USER_SETTING
from .access import (
    accounts_beyond,
    disabled_profiles,
    require_domain,
    require_global_admin,
    require_within_privileges,
    without_disabled,
)
from .backup import walk

KINDS = tuple(BY_API_NAME)


class ExportService:
    def __init__(self, directory, layout):
        self._directory = directory
        self._layout = layout

    def entries(self, caller, kind, name):
        """The entries of one export, parents first (an iterator)."""
        if kind == "domain":
            domain = parse_domain(name)
            require_domain(self._directory, self._layout, caller, domain)
            beyond = accounts_beyond(self._directory, self._layout, caller, domain)
            visible = self._viewer(caller, domain)
            entries = walk(self._directory, self._layout.domain_dn(domain))
            return (visible(_without_password(e) if str(e.first("mail", "")).lower() in beyond
                            else e) for e in entries)
        if kind == "catchall":
            domain = parse_domain(name)
            require_domain(self._directory, self._layout, caller, domain)
            return iter([self._one(self._layout.entry_dn(CATCHALL, "@" + domain),
                                   f"catch-all of {domain}")])
        mail = parse_user_mail(name)
        if kind == "admin":
            require_global_admin(caller)
            return iter([self._one(self._layout.admin_dn(mail), f"admin {mail}")])
        domain = domain_of(mail)
        require_domain(self._directory, self._layout, caller, domain)
        entries = [self._one(self._layout.entry_dn(BY_API_NAME[kind], mail), f"{kind} {mail}")]
        if kind == "user":
            require_within_privileges(self._directory, self._layout, caller, entries[0])
            entries = [self._viewer(caller, domain)(entries[0])]
        if kind == "maillist":  # with its external members' entry
            externals = self._directory.get(self._layout.entry_dn(EXTERNALS, mail), ["*"])
            entries += [externals] if externals else []
        return iter(entries)

    def _viewer(self, caller, domain):
        """A function that leaves out of an entry what disabled profiles hide from a normal
        admin: a domain's domain profiles, a user's user profiles."""
        if caller.is_global_admin:
            return lambda entry: entry
        settings = self._directory.get(self._layout.domain_dn(domain), ["accountSetting"])
        disabled = {table: disabled_profiles(settings, key) if settings else set()
                    for table, key in ((DOMAIN_PROFILES, DOMAIN_SETTING),
                                       (USER_PROFILES, USER_SETTING))}

        def visible(entry):
            for table, object_class in ((DOMAIN_PROFILES, "mailDomain"),
                                        (USER_PROFILES, "mailUser")):
                if entry.has_value("objectClass", object_class):
                    return without_disabled(caller, table, disabled[table], entry)
            return entry
        return visible

    def _one(self, dn, what):
        """The whole entry at `dn` (NO_SUCH_ACCOUNT naming `what` when there is none)."""
        entry = self._directory.get(dn, ["*"])
        if entry is None:
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what}")
        return entry


def _without_password(entry):
    """A copy of `entry` without its password hash: a normal admin's domain export of an
    account with privileges beyond its own (the hash could be cracked offline)."""
    return Entry(entry.dn, {name: values for name, values in entry.attrs.items()
                            if name.lower() != "userpassword"})
