"""How writes read in the admin log (event, message, domain, account), and the JSON log
format: names of parameters only, never their values."""

import json
import logging
import subprocess
import sys

import pytest

from iredapi_ldap.config import ConfigError, load_settings
from iredapi_ldap.http.audit import describe, route_key
from iredapi_ldap.logformat import JsonFormatter, request_id

SECRET = "Unit-Secr3t-Pw!"


@pytest.mark.parametrize("method, template, url, params, expected", [
    ("POST", "/api/domain/{domain}", {"domain": "Ex.Com"}, {"name": "X"},
     ("create", "Create domain: ex.com (name).", "ex.com", "")),
    ("DELETE", "/api/domain/{domain}/keep_mailbox_days/{days}",
     {"domain": "ex.com", "days": "30"}, {},
     ("delete", "Delete domain: ex.com (keep mailbox 30 days).", "ex.com", "")),
    ("PUT", "/api/domain/{domain}", {"domain": "ex.com"}, {"accountStatus": "disabled"},
     ("disable", "Disable domain: ex.com (accountStatus).", "ex.com", "")),
    ("PUT", "/api/domain/admins/{domain}", {"domain": "ex.com"}, {"removeAllAdmins": "yes"},
     ("revoke", "Revoke domain admins: ex.com (removeAllAdmins).", "ex.com", "")),
    ("PUT", "/api/domain/admins/{domain}", {"domain": "ex.com"},
     {"addAdmin": "a@b.net", "removeAdmin": "c@b.net"},
     ("update", "Update domain admins: ex.com (addAdmin, removeAdmin).", "ex.com", "")),
    ("POST", "/api/admin/{mail}", {"mail": "a@admins.net"}, {"password": SECRET},
     ("create", "Create admin: a@admins.net (password).", "", "a@admins.net")),
    ("PUT", "/api/user/{mail}", {"mail": "u@ex.com"},
     {"password_hash": "{SSHA}" + SECRET, "accountStatus": "active"},
     ("active", "Activate user: u@ex.com (accountStatus, password_hash).", "ex.com",
      "u@ex.com")),
    ("PUT", "/api/users/{domain}", {"domain": "ex.com"}, {"password": SECRET},
     ("update", "Update users of domain: ex.com (password).", "ex.com", "")),
    ("POST", "/api/user/{mail}/change_email/{new_mail}",
     {"mail": "u@ex.com", "new_mail": "v@ex.com"}, {},
     ("update", "Change email of user: u@ex.com to v@ex.com.", "ex.com", "u@ex.com")),
    ("DELETE", "/api/maillist/{mail}", {"mail": "l@ex.com"}, {"archive": "yes"},
     ("delete", "Delete mailing list: l@ex.com (archive).", "ex.com", "l@ex.com")),
    ("PUT", "/api/spampolicy/global", {}, {"spam_tag_level": "4"},
     ("update", "Update spam policy: global (spam_tag_level).", "", "")),
    ("DELETE", "/api/spampolicy/user/{name}", {"name": "u@ex.com"}, {},
     ("update", "Delete spam policy: u@ex.com.", "ex.com", "u@ex.com")),
    ("POST", "/api/throttle/{target}/{kind}", {"target": "ex.com", "kind": "inbound"},
     {"period": "60"}, ("update", "Update inbound throttle: ex.com (period).", "ex.com", "")),
    ("POST", "/api/wblist/{direction}/{listing}/{target}",
     {"direction": "inbound", "listing": "whitelist", "target": "u@ex.com"},
     {"addresses": "192.0.2.1"},
     ("update", "Update inbound whitelist: u@ex.com (addresses).", "ex.com", "u@ex.com")),
    ("DELETE", "/api/wblist/{direction}/{listing}/{target}",
     {"direction": "outbound", "listing": "blacklist", "target": "global"}, {},
     ("update", "Delete outbound blacklist: global.", "", "")),
    ("POST", "/api/greylisting/{target}/whitelists", {"target": "@ex.com"},
     {"addSenders": "192.0.2.1"},
     ("update", "Update greylisting whitelists: @ex.com (addSenders).", "ex.com", "")),
    ("POST", "/api/greylisting/whitelist_spf_domains", {}, {"domains": "a.net"},
     ("update", "Update greylisting SPF domains: global (domains).", "", "")),
])
def test_writes_as_the_admin_log_shows_them(method, template, url, params, expected):
    assert describe(method, template, url, params) == expected
    assert SECRET not in repr(describe(method, template, url, params))


@pytest.mark.parametrize("method, template", [
    ("POST", "/api/login"), ("POST", "/api/logout"),
    ("POST", "/api/verify_password/user/{mail}"), ("GET", "/api/user/{mail}"),
    ("GET", "/api/ldif/{kind}/{name}"), ("POST", None)])
def test_what_is_not_a_write_is_not_audited(method, template):
    assert describe(method, template, {"mail": "u@ex.com"}, {"password": SECRET}) is None


def test_route_keys_follow_the_prefix():
    assert route_key("/api/user/{mail}") == route_key("/v1/user/{mail}", "/v1/") == (
        "user/{mail}")
    assert route_key("/api/user/{mail}", "/v1") == route_key("/apix/user/{mail}") == ""
    assert describe("PUT", "/v1/user/{mail}", {"mail": "u@ex.com"}, {}, "/v1")[0] == "update"


def test_json_lines_carry_the_request_fields():
    record = logging.LogRecord("iredapi_ldap.requests", logging.INFO, __file__, 1,
                               "POST %s", ("/api/user/{mail}",), None)
    record.admin, record.status, record.duration_ms = "a@ex.com", 200, 1.5
    token = request_id.set("abc")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert {k: line[k] for k in ("request_id", "admin", "status", "duration_ms", "message",
                                 "level")} == {
        "request_id": "abc", "admin": "a@ex.com", "status": 200, "duration_ms": 1.5,
        "message": "POST /api/user/{mail}", "level": "INFO"}
    assert line["time"].endswith("Z") and "route" not in line


def test_log_format_is_text_or_json():
    env = {"IREDAPI_LDAP_BIND_PASSWORD": "x"}
    assert load_settings(environ=env).log_format == "text"
    assert load_settings(environ={**env, "IREDAPI_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings(environ={**env, "IREDAPI_LOG_FORMAT": "xml"})


def test_configure_logging_json_writes_json_lines():
    code = ("import logging; from iredapi_ldap.logformat import configure_logging; "
            "configure_logging('json'); logging.getLogger('x').warning('hello %s', 1)")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stderr
    line = json.loads(err)
    assert (line["logger"], line["level"], line["message"]) == ("x", "WARNING", "hello 1")
