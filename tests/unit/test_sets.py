"""Set-valued parameters (model/sets.py): whole / add / remove / remove-all."""

import pytest

from iredapi_ldap.errors import BadRequest
from iredapi_ldap.model.fields import Email, Pattern
from iredapi_ldap.model.sets import SetChange, SetParam

MEMBERS = SetParam("members", "addMember", "removeMember", None, Email(allow_empty=False))
SERVICES = SetParam("services", "addService", "removeService", "removeAllServices",
                    Pattern(r"[a-z0-9][a-z0-9._-]*", "a service name"))


def test_params_are_the_names_it_answers_to():
    assert MEMBERS.params() == ("members", "addMember", "removeMember")
    assert SERVICES.params() == ("services", "addService", "removeService",
                                 "removeAllServices")


def test_no_parameter_is_no_change():
    assert MEMBERS.change({}) is None
    assert MEMBERS.change({"name": "x", "services": "mail"}) is None


def test_items_are_split_encoded_and_deduplicated():
    change = MEMBERS.change({"addMember": " A@Example.org, b@example.org,,a@example.org ",
                             "removeMember": "c@example.org"})
    assert change == SetChange(add=("a@example.org", "b@example.org"),
                               remove=("c@example.org",))
    assert MEMBERS.change({"members": ""}) == SetChange(whole=())
    assert SERVICES.change({"removeAllServices": ""}) == SetChange(remove_all=True)


@pytest.mark.parametrize("params, detail", [
    ({"members": "a@example.org", "addMember": "b@example.org"},
     "members conflicts with addMember"),
    ({"members": "a@example.org", "addMember": "b@example.org", "removeMember": "c@x.org"},
     "members conflicts with addMember, removeMember"),
])
def test_the_whole_set_goes_alone(params, detail):
    with pytest.raises(BadRequest) as raised:
        MEMBERS.change(params)
    assert raised.value.code == "CONFLICTING_PARAMETERS"
    assert raised.value.detail == detail


def test_remove_all_goes_alone_and_takes_no_value():
    with pytest.raises(BadRequest) as raised:
        SERVICES.change({"removeAllServices": "yes", "addService": "imap"})
    assert (raised.value.code, raised.value.detail) == (
        "CONFLICTING_PARAMETERS", "removeAllServices conflicts with addService")
    with pytest.raises(BadRequest) as raised:
        SERVICES.change({"removeAllServices": "no"})
    assert raised.value.code == "INVALID_PARAMETER"
    assert "removeAllServices takes no value" in raised.value.detail
    assert SERVICES.change({"removeAllServices": "yes"}).result(["mail", "imap"]) == []


def test_add_and_remove_may_come_together():
    change = SERVICES.change({"addService": "imap", "removeService": "pop3"})
    assert change.result(["mail", "pop3"]) == ["mail", "imap"]


def test_a_bad_item_is_the_codecs_error():
    with pytest.raises(BadRequest) as raised:
        MEMBERS.change({"addMember": "a@example.org,nope"})
    assert raised.value.code == "INVALID_MAIL" and "addMember" in raised.value.detail


def test_result_and_difference_ignore_case_and_keep_order():
    current = ["A@example.org", "b@example.org", "c@example.org"]
    change = SetChange(add=("d@example.org", "a@example.org"), remove=("B@EXAMPLE.ORG",))
    assert change.result(current) == ["A@example.org", "c@example.org", "d@example.org"]
    assert change.difference(current) == (["d@example.org"], ["b@example.org"])


def test_whole_set_difference():
    current = ["A@example.org", "b@example.org"]
    change = SetChange(whole=("c@example.org", "a@example.org"))
    assert change.result(current) == ["c@example.org", "a@example.org"]
    assert change.difference(current) == (["c@example.org"], ["b@example.org"])
    assert SetChange(whole=()).difference(current) == ([], current)


def test_an_item_both_added_and_removed_goes_if_it_was_there():
    change = SetChange(add=("a@x.org", "b@x.org"), remove=("a@x.org", "b@x.org"))
    assert change.result(["a@x.org"]) == ["b@x.org"]
    assert change.difference(["a@x.org"]) == (["b@x.org"], ["a@x.org"])


def test_nothing_to_do():
    change = SetChange(add=("a@x.org",), remove=("z@x.org",))
    assert change.difference(["A@X.org"]) == ([], [])
    assert change.named == ("a@x.org", "z@x.org")
    assert SetChange(whole=("q@x.org",)).named == ("q@x.org",)
    assert SetChange().difference([]) == ([], [])


def test_remove_all_may_come_with_add_where_the_api_allows_it():
    admins = SetParam(None, "addAdmin", "removeAdmin", "removeAllAdmins",
                      item=Email(allow_empty=False), remove_all_alone=False)
    change = admins.change({"removeAllAdmins": "", "addAdmin": "b@x.org,a@x.org"})
    assert change.result(["a@x.org", "c@x.org"]) == ["b@x.org", "a@x.org"]
    assert change.difference(["a@x.org", "c@x.org"]) == (["b@x.org"], ["c@x.org"])
