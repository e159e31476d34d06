"""Standalone admins: `mailAdmin` entries under LDAP_ADMIN_BASEDN (global admins only)."""

import time

from .. import passwords
from ..addresses import domain_of, is_email
from ..directory import Change, Op
from ..errors import BadRequest, Code, Conflict, EntryExists, NotFound
from ..model.draft import EntryDraft
from ..model.fields import YES_NO, Integer
from ..model.kinds import ADMIN_FIELDS, ADMIN_LIMIT_SETTINGS, ADMIN_PRIVILEGES
from ..model.mapping import apply_fields, canonical_params
from ..model.render import render_entry
from .access import domains_administered_by, is_hosted, require_global_admin
from .password_policy import check_new_password
from .values import refuse_unknown

QUOTA_UNITS = ("TB", "GB", "MB")
RULE_PARAMS = ("password", "isGlobalAdmin", "maxDomains", "maxQuota", "quotaUnit",
               *ADMIN_PRIVILEGES)
PARAMS = {f.param for f in ADMIN_FIELDS} | set(RULE_PARAMS)


def parse_mail(text):
    mail = (text or "").lower()
    if not is_email(mail):
        raise BadRequest(Code.INVALID_MAIL, detail=f"not an e-mail address: {text!r}")
    return mail


class AdminService:
    def __init__(self, directory, layout, settings):
        self._directory = directory
        self._layout = layout
        self._settings = settings

    def get(self, caller, mail):
        require_global_admin(caller)
        entry = self._entry(parse_mail(mail))
        data = render_entry(entry)
        data["managed_domains"] = self.managed_domains(str(entry.first("mail")).lower())
        return data

    def managed_domains(self, mail):
        return domains_administered_by(self._directory, self._layout, mail)

    def _entry(self, mail):
        entry = self._directory.get(self._layout.admin_dn(mail))
        if entry is None:
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no standalone admin {mail}")
        return entry

    def create(self, caller, mail, params):
        require_global_admin(caller)
        mail = parse_mail(mail)
        params = _known(params)
        if not params.get("password"):
            raise BadRequest(Code.MISSING_PARAMETER, detail="password is required")
        if is_hosted(self._directory, self._layout, domain_of(mail)):
            raise BadRequest(Code.CAN_NOT_BE_LOCAL_DOMAIN,
                             detail="a standalone admin's address must not be in a hosted domain")
        draft = EntryDraft({"objectClass": ["mailAdmin"], "mail": [mail],
                            "cn": [mail.split("@")[0]], "accountStatus": ["active"]})
        self._apply(draft, params, creating=True)
        try:
            self._directory.add(self._layout.admin_dn(mail), draft.attributes())
        except EntryExists:
            raise Conflict(detail=f"admin {mail} exists already") from None

    def update(self, caller, mail, params):
        require_global_admin(caller)
        params = _known(params)
        if not params:
            raise BadRequest(Code.MISSING_PARAMETER, detail="no parameter to change")
        entry = self._entry(parse_mail(mail))
        draft = EntryDraft.of(entry)
        self._apply(draft, params, creating=False)
        self._directory.modify(entry.dn, draft.changes())

    def delete(self, caller, mail):
        """Remove the admin and its address from every domain's domainAdmin."""
        require_global_admin(caller)
        mail = parse_mail(mail)
        entry = self._entry(mail)
        for domain in self.managed_domains(mail):
            self._directory.modify(self._layout.domain_dn(domain),
                                   [Change("domainAdmin", Op.DELETE, (mail,))])
        self._directory.delete(entry.dn)

    def verify_password(self, caller, mail, password):
        require_global_admin(caller)
        entry = self._entry(parse_mail(mail))
        if not passwords.verify(password, entry.get("userPassword")):
            raise BadRequest(Code.PW_MISMATCH, detail="the password does not match")

    def _apply(self, draft, params, creating):
        apply_fields(ADMIN_FIELDS, params, draft, creating)
        if "password" in params:
            check_new_password(params["password"], self._settings)
            draft.set("userPassword", [passwords.hash_password(
                params["password"], self._settings.default_password_scheme)])
            draft.set("shadowLastChange", [str(int(time.time() // 86400))])
        if "maxDomains" in params:
            count = int(Integer(0).encode("maxDomains", params["maxDomains"])[0])
            draft.set_setting("create_new_domains", "yes" if count else None)
            draft.set_setting("create_max_domains", str(count) if count else None)
        _apply_quota(draft, params)
        for param, service in ADMIN_PRIVILEGES.items():
            if param in params:
                (draft.add if YES_NO.encode(param, params[param]) else draft.remove)(
                    "disabledService", service)
        if "isGlobalAdmin" in params:
            draft.set("domainGlobalAdmin", YES_NO.encode("isGlobalAdmin",
                                                         params["isGlobalAdmin"]))
        if draft.has("domainGlobalAdmin", "yes"):
            for key in ADMIN_LIMIT_SETTINGS:  # a global admin has no per-admin limits
                draft.set_setting(key, None)


def _apply_quota(draft, params):
    given = [p for p in ("maxQuota", "quotaUnit") if p in params]
    if not given:
        return
    if len(given) == 1:
        raise BadRequest(Code.MISSING_PARAMETER, detail="maxQuota and quotaUnit go together")
    quota = int(Integer(0).encode("maxQuota", params["maxQuota"])[0])
    unit = params["quotaUnit"].strip().upper()
    if unit not in QUOTA_UNITS:
        raise BadRequest(detail="quotaUnit must be TB, GB or MB")
    draft.set_setting("create_max_quota", str(quota) if quota else None)
    draft.set_setting("create_quota_unit", unit if quota else None)


def _known(params):
    params = canonical_params(params)
    refuse_unknown(params, PARAMS)
    return params
