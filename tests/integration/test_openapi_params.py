"""Every operation of /api/openapi.json accepts exactly the parameters the document names
(the kinds' rows with their legacy names, and the hand-listed ones of logins, listings,
policies and sets): sent all at once with every other name the document knows (those of
other operations) and one it does not, the reply is UNKNOWN_PARAMETER naming exactly the
others. Parameter names are checked before anything is
written (after, at most, looking the domain up), so the accounts need not exist and nothing
changes."""

import json
import re
from urllib.parse import urlencode

import pytest

from iredapi_ldap.openapi import document

pytestmark = pytest.mark.slapd

STRANGER = "zz_not_documented"


def _path_values(domain):
    """Targets that do not exist, in an existing domain (the creates and some updates
    look the domain up first)."""
    return {"domain": domain, "mail": f"nobody@{domain}", "name": domain,
            "new_mail": f"other@{domain}", "target": domain, "days": "7"}


def _operations():
    out = []
    for path, item in document()["paths"].items():
        fields = {p["name"]: p["schema"] for p in item.get("parameters", ())}
        for method, op in item.items():
            if method == "parameters" or op.get("security") == [] and method != "post":
                continue
            out.append(pytest.param(path, fields, method, op, id=f"{method.upper()} {path}"))
    return out


def _url(path, fields, values):
    def value(match):
        name = match.group(1)
        enum = fields[name].get("enum")
        if name == "name" and "spampolicy/user" in path:
            return values["mail"]
        return enum[0] if enum else values[name]
    return re.sub(r"{(\w+)}", value, path)


def _documented(op):
    """The names of the operation's parameters, and (apart, as a name and its legacy name
    given together conflict) the legacy ones."""
    names = {p["name"]: p["schema"] for p in op.get("parameters", ())}
    for media in op.get("requestBody", {}).get("content", {}).values():
        names.update(media["schema"]["properties"])
        break
    legacy = [name for name, schema in names.items() if schema.get("deprecated")]
    return [name for name in names if name not in legacy], legacy


EVERY_NAME = {name for param in _operations() for names in _documented(param.values[3])
              for name in names}


@pytest.mark.parametrize("path,fields,method,op", _operations())
def test_exactly_the_documented_parameters_are_accepted(client, admin_cookies, domain, path,
                                                        fields, method, op):
    if path in ("/api/logout",):
        pytest.skip("takes no parameters and no session")   # checked by test_logout_*
    url = _url(path, fields, _path_values(domain))
    current, legacy = _documented(op)
    others = sorted(EVERY_NAME - set(current) - set(legacy) | {STRANGER})
    _refused_naming(client, admin_cookies, method, url, current, others)
    if legacy:
        _refused_naming(client, admin_cookies, method, url, legacy, [STRANGER])


def _refused_naming(client, admin_cookies, method, url, names, unknown):
    values = dict.fromkeys(names, "")
    values.update(dict.fromkeys(unknown, "1"))
    if method in ("get", "head"):
        result = client.simulate_request(method.upper(), url, query_string=urlencode(values),
                                         cookies=admin_cookies)
    else:
        result = client.simulate_request(
            method.upper(), url, body=json.dumps(values), cookies=admin_cookies,
            headers={"Content-Type": "application/json"})
    if method == "head":
        assert result.status_code == 400
        return
    assert result.status_code == 400, result.text
    assert result.json["_msg"] == "UNKNOWN_PARAMETER", result.json
    assert result.json["_detail"] == "unknown parameter(s): " + ", ".join(unknown), result.json
