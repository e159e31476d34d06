"""The OpenAPI document (iredapi_ldap/openapi.py) against what the code does: valid
OpenAPI 3.1, every route of the app with its methods (and nothing else), every row of every
kind with its legacy names, every `_msg` code; and the page that shows it."""

import json
import re

import pytest
from falcon import inspect, testing
from openapi_spec_validator import validate

from iredapi_ldap import openapi
from iredapi_ldap.addresses import DOMAIN_PATTERN, MAIL_PATTERN, is_domain, is_email
from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings
from iredapi_ldap.errors import Code
from iredapi_ldap.model.kinds import ADMIN, ALIAS, DOMAIN, LIST, USER
from iredapi_ldap.model.spampolicy import SPAM_POLICY
from iredapi_ldap.openapi import counts, document

METHODS = ("get", "head", "post", "put", "delete")


@pytest.fixture(scope="module")
def doc():
    return document()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = load_settings(environ={}, enable_restful_api=True, ldap_bind_password="x",
                             data_dir=str(tmp_path_factory.mktemp("data")))
    return create_app(settings, object())


def test_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    print(counts(doc))


def test_every_route_and_method_of_the_app_is_documented_and_nothing_else(doc, app):
    routes = {(route.path, m.method.lower()) for route in inspect.inspect_routes(app)
              for m in route.methods if not m.internal}
    documented = {(path, method) for path, item in doc["paths"].items()
                  for method in item if method in METHODS}
    assert routes == documented


def _body(doc, path, method):
    return doc["paths"][path][method]["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]


@pytest.mark.parametrize("kind,path", [(DOMAIN, "/api/domain/{domain}"),
                                       (USER, "/api/user/{mail}"),
                                       (ALIAS, "/api/alias/{mail}"),
                                       (LIST, "/api/maillist/{mail}"),
                                       (ADMIN, "/api/admin/{mail}")])
@pytest.mark.parametrize("method,creating", [("post", True), ("put", False)])
def test_every_row_of_a_kind_is_a_body_parameter_with_its_legacy_names(
        doc, kind, path, method, creating):
    body = _body(doc, path, method)
    properties = body["properties"]
    names = kind.names(creating)
    legacy = {old for row in kind.params if row.name in names for old in row.legacy}
    assert set(properties) == set(names) | legacy
    assert body["additionalProperties"] is False
    for row in kind.params:
        if row.name in names and row.legacy:
            assert properties[row.name]["x-legacy-names"] == list(row.legacy)
            for old in row.legacy:
                assert properties[old]["deprecated"] is True
                assert row.name in properties[old]["description"]
        if row.name in names:
            assert properties[row.name]["x-who"] == row.who.value


def test_codecs_give_types(doc):
    properties = _body(doc, "/api/user/{mail}", "post")["properties"]
    assert properties["mailboxFormat"]["enum"] == ["maildir", "mdbox", "sdbox"]
    assert properties["quota"]["type"] == "integer"
    assert properties["name"]["maxLength"] == 255
    assert "password" in _body(doc, "/api/admin/{mail}", "post")["required"]


def test_password_hash_only_where_a_setting_may_expose_it(doc):
    def data(path, method="get"):
        schema = doc["paths"][path][method]["responses"]["200"]["content"][
            "application/json"]["schema"]["oneOf"][0]["properties"]["_data"]
        return schema["items"]["oneOf"][0] if schema.get("type") == "array" else schema
    for path, setting in (("/api/user/{mail}", "API_HIDDEN_USER_PROFILES"),
                          ("/api/users/{domain}", "API_HIDDEN_USER_PROFILES"),
                          ("/api/admin/{mail}", "API_HIDDEN_ADMIN_PROFILES")):
        schema = data(path)
        assert "not" not in schema
        assert setting in schema["properties"]["userPassword"]["description"]
    for path in ("/api/domain/{domain}", "/api/alias/{mail}", "/api/maillist/{mail}"):
        assert data(path)["not"] == {"required": ["userPassword"]}


def test_spam_policy_throttle_and_sets(doc):
    assert set(_body(doc, "/api/spampolicy/global", "put")["properties"]) == set(SPAM_POLICY)
    assert set(_body(doc, "/api/throttle/{target}/{kind}", "post")["properties"]) == {
        "period", "msg_size", "max_msgs", "max_quota"}
    assert _body(doc, "/api/throttle/{target}/{kind}", "post")["required"] == ["period"]
    assert set(_body(doc, "/api/greylisting/{target}/whitelists", "post")["properties"]) == {
        "senders", "addSenders", "removeSenders"}
    assert set(_body(doc, "/api/domain/admins/{domain}", "put")["properties"]) == {
        "addAdmin", "removeAdmin", "removeAllAdmins"}


def test_every_code_of_the_catalogue_is_in_the_replies(doc):
    text = json.dumps(doc["components"])
    for code in Code:
        assert code.name in text and code.meaning in text
    for item in doc["paths"].values():
        for method, op in item.items():
            if method in METHODS:
                statuses = {int(s) for s in op["responses"]}
                assert statuses == {200, openapi.URI_TOO_LONG, *(code.status for code in Code)}


def test_public_endpoints(doc):
    public = {(path, method) for path, item in doc["paths"].items()
              for method, op in item.items() if method in METHODS and op.get("security") == []}
    assert ("/api/login", "post") in public and ("/api/openapi.json", "get") in public
    assert ("/api/user/{mail}", "get") not in public


def test_served_without_a_session_and_gated(app, tmp_path):
    client = testing.TestClient(app)
    result = client.simulate_get("/api/openapi.json")
    assert result.status_code == 200 and result.json == document()
    assert client.simulate_get("/iredadmin/api/openapi.json").json == document()
    page = client.simulate_get("/api/docs")
    assert page.status_code == 200 and "docs/docs.js" in page.text
    assert "http" not in page.text.replace('href="openapi.json"', "")  # nothing from outside
    for asset in openapi.DOCS_ASSETS:
        assert client.simulate_get(f"/api/docs/{asset}").status_code == 200
    assert client.simulate_get("/api/docs/../app.py").status_code == 404
    assert client.simulate_get("/api/docs/").headers["location"] == "../docs"
    off = load_settings(environ={}, enable_restful_api=False, ldap_bind_password="x",
                        data_dir=str(tmp_path))
    closed = testing.TestClient(create_app(off, object()))
    assert closed.simulate_get("/api/openapi.json").json["_msg"] == "API_DISABLED"



@pytest.mark.parametrize("text", ["example.com", "a.b.c.example.org", "xn--bcher-kva.example",
                                  "a-b.co", "0.example", "x" * 63 + ".com",
                                  "-a.com", "a-.com", "a..com", "a.com.", "com", "a_b.com",
                                  "a.com\n", "x" * 64 + ".com", "é.com", ""])
def test_domain_pattern_agrees_with_is_domain(text):
    assert bool(re.fullmatch(DOMAIN_PATTERN, text)) == is_domain(text)


@pytest.mark.parametrize("text", ["user@example.com", "a.b+c@x.example", "o'neil@x.org",
                                  "#&_-@x.org", "user@@example.com", ".user@x.org",
                                  "us..er@x.org", "user.@x.org", "user@-x.org", "@x.org",
                                  "user@x", "us er@x.org", "user@x.org\n"])
def test_mail_pattern_agrees_with_is_email(text):
    assert bool(re.fullmatch(MAIL_PATTERN, text)) == is_email(text)
