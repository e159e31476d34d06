"""The kinds and their parameter rows (model/kinds.py, model/params.py), without slapd."""

import pytest

from iredapi_ldap.errors import BadRequest, PermissionDenied
from iredapi_ldap.model import fields, kinds
from iredapi_ldap.model.admin_rules import may_create_more
from iredapi_ldap.model.draft import EntryDraft
from iredapi_ldap.model.params import Kind, Param, Who, params_of

ALL_KINDS = (kinds.DOMAIN, kinds.USER, kinds.ALIAS, kinds.LIST, kinds.ADMIN)

# A valid parameter text for each codec type, as a client sends it and as decode gives it
# back (every codec type a row uses must be here: a new type needs a sample).
SAMPLES = {
    fields.Text: ["Alice Example", "x"],
    fields.TextList: ["+1 555 0100,+1 555 0101", "12"],
    fields.Pattern: ["Maildir"],
    fields.Integer: ["0", "42", "1024"],
    fields.Choice: None,  # every word of the row's choice
    fields.Language: ["en_US", "de"],
    fields.Transport: ["dovecot", "smtp:[192.0.2.1]:25", "relay:[mx.example.com]"],
    fields.MegabytesSetting: ["0", "2048"],
    fields.Megabytes: ["0", "1", "1024"],
    fields.RelayHost: ["[192.0.2.2]:25", "smtp:[mx.example.com]:587", ""],
}


def rows_with_codec():
    return [pytest.param(kind, row, id=f"{kind.name}.{row.name}")
            for kind in ALL_KINDS for row in kind.params if row.codec is not None]


def samples_of(row):
    if isinstance(row.codec, fields.Choice):
        return [word for word, _ in row.codec.stored]
    return SAMPLES[type(row.codec)]


@pytest.mark.parametrize(("kind", "row"), rows_with_codec())
def test_every_row_round_trips(kind, row):
    """What a row stores decodes to the text that stored it, in a setting or an attribute
    (the samples are in the form decode gives)."""
    for text in samples_of(row):
        draft = EntryDraft()
        row.store(draft, text)
        assert row.decode(draft) == text, (row.name, text, draft.assigned())


def test_megabytes_are_stored_in_bytes_and_read_back_in_megabytes():
    row = kinds.USER.param("quota")
    draft = EntryDraft()
    row.store(draft, "1024")
    assert draft.get("mailQuota") == [str(1024 * 1024 * 1024)]
    assert row.decode(draft) == "1024"


def test_a_setting_row_lives_in_account_setting():
    row = kinds.DOMAIN.param("quota")
    draft = EntryDraft({"accountSetting": ["defaultQuota:10"]})
    row.store(draft, "2048")
    assert sorted(draft.get("accountSetting")) == ["defaultQuota:10", "domainQuota:2048:MB"]
    assert row.decode(draft) == "2048"
    row.store(draft, "0")  # unlimited: no key
    assert draft.get("accountSetting") == ["defaultQuota:10"]


def test_choice_decodes_absence_as_its_empty_word():
    assert fields.YES_NO.decode([]) == "no"
    assert fields.YES_NO.decode(["yes"]) == "yes"


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda kind: kind.name)
def test_every_row_says_where_it_goes(kind):
    """A row stores a value, runs a rule or names an effect: none is inert."""
    for row in kind.params:
        assert row.codec or row.rule or row.effect, row.name
        assert not (row.codec and not (row.attribute or row.setting)), row.name


def test_row_counts():
    """The rows of each kind (the issue's count of update parameters)."""
    assert len(kinds.USER.names(creating=False)) == 28
    assert len(kinds.DOMAIN.names(creating=False)) == 31
    assert len(kinds.ADMIN.names(creating=False)) == 13


# -- the engine ------------------------------------------------------------------------------

class _Recorder:
    params = ("a", "b")

    def __init__(self):
        self.calls = 0

    def apply(self, draft, params, context):
        self.calls += 1
        draft.set("seen", sorted(p for p in self.params if p in params))


class _Caller:
    def __init__(self, is_global_admin):
        self.is_global_admin = is_global_admin


def _kind(*rows, **extra):
    return Kind("thing", "thing", ("thing",), "cn", params=rows, **extra)


def test_request_renames_legacy_names_and_refuses_both():
    kind = _kind(Param("name", "cn", fields.Text(), legacy=("cn",)))
    assert kind.request({"cn": "x"}, creating=True) == {"name": "x"}
    with pytest.raises(BadRequest) as caught:
        kind.request({"cn": "x", "name": "y"}, creating=True)
    assert caught.value.code == "CONFLICTING_PARAMETERS"


def test_request_refuses_unknown_and_empty_updates_and_missing_required():
    kind = _kind(Param("name", "cn", fields.Text()), Param("late", "sn", fields.Text(),
                                                         on_create=False),
                 required_on_create=(("name",),))
    with pytest.raises(BadRequest) as caught:
        kind.request({"name": "x", "late": "y"}, creating=True)
    assert caught.value.code == "UNKNOWN_PARAMETER" and "late" in caught.value.detail
    with pytest.raises(BadRequest) as caught:
        kind.request({}, creating=False)
    assert caught.value.code == "MISSING_PARAMETER"
    with pytest.raises(BadRequest) as caught:
        kind.request({"name": ""}, creating=True)
    assert caught.value.code == "MISSING_PARAMETER"
    assert kind.request({"late": "y"}, creating=False, accepted=("late",)) == {"late": "y"}


def test_a_password_of_blanks_is_given_not_missing():
    """Only an absent or empty password is missing; blanks go to the password rules."""
    assert kinds.USER.request({"password": "   "}, creating=True) == {"password": "   "}
    assert kinds.ADMIN.request({"password": "   "}, creating=True) == {"password": "   "}


def test_apply_runs_a_family_rule_once_and_only_when_given():
    rule = _Recorder()
    kind = _kind(Param("name", "cn", fields.Text()), *params_of(rule, "a", "b"))
    draft = EntryDraft()
    assert kind.apply(draft, {"name": "x"}, _Caller(True), creating=True) == {"name"}
    assert rule.calls == 0
    assert kind.apply(draft, {"a": "1", "b": "2"}, _Caller(True), creating=False) == {"a", "b"}
    assert rule.calls == 1 and draft.get("seen") == ["a", "b"] and draft.get("cn") == ["x"]


def test_apply_leaves_global_rows_to_global_admins():
    kind = _kind(Param("limit", "accountSetting", fields.Integer(), setting="max",
                       who=Who.GLOBAL))
    with pytest.raises(PermissionDenied):
        kind.apply(EntryDraft(), {"limit": "3"}, _Caller(False), creating=False)
    draft = EntryDraft()
    kind.apply(draft, {"limit": "3"}, _Caller(True), creating=False)
    assert draft.get("accountSetting") == ["max:3"]


def test_apply_runs_invariants_after_the_rows():
    rule = _Recorder()
    kind = _kind(Param("name", "cn", fields.Text()), always=(rule,))
    kind.apply(EntryDraft(), {"name": "x"}, _Caller(True), creating=True)
    assert rule.calls == 1


def test_a_kind_refuses_a_parameter_twice():
    with pytest.raises(ValueError):
        _kind(Param("name", "cn", fields.Text()), Param("name", "sn", fields.Text()))


def test_a_kind_is_found_by_its_marker():
    assert kinds.ALIAS.search_filter == "(objectClass=mailAlias)"
    assert kinds.USER.marker == "mailUser" and "(!(mail=@*))" in kinds.USER.search_filter


def test_dns_follow_the_kinds():
    from iredapi_ldap.layout import Layout
    layout = Layout("o=domains,dc=x", "o=admins,dc=x")
    assert layout.entry_dn(kinds.USER, "a@b.test") == \
        "mail=a@b.test,ou=Users,domainName=b.test,o=domains,dc=x"
    assert layout.entry_dn(kinds.LIST, "l@b.test").startswith("mail=l@b.test,ou=Groups,")
    assert layout.entry_dn(kinds.EXTERNALS, "l@b.test").startswith(
        "memberOfGroup=l@b.test,ou=Externals,domainName=b.test,")
    assert layout.entry_dn(kinds.ADMIN, "a@b.test") == "mail=a@b.test,o=admins,dc=x"
    assert layout.entry_dn(kinds.DOMAIN, "b.test") == "domainName=b.test,o=domains,dc=x"
    assert layout.entry_dn(kinds.CATCHALL, "@b.test").startswith("mail=@b.test,ou=Users,")


# -- the set families ----------------------------------------------------------------------

def test_every_set_family_answers_conflicts_the_same_way():
    """members, aliases, forwarding, services and alias domains: the whole set goes alone,
    with one message."""
    cases = [(kinds.USER, {"forwarding": "a@b.test", "addForwarding": "c@b.test"}),
             (kinds.USER, {"aliases": "a@b.test", "removeAlias": "c@b.test"}),
             (kinds.USER, {"services": "imap", "removeAllServices": ""}),
             (kinds.DOMAIN, {"aliasDomains": "a.test", "addAliasDomain": "c.test"})]
    for kind, params in cases:
        with pytest.raises(BadRequest) as caught:
            kind.apply(EntryDraft(), params, _Caller(True), creating=False)
        first, other = params
        assert caught.value.code == "CONFLICTING_PARAMETERS"
        assert caught.value.detail == f"{first} conflicts with {other}"


def test_services_edit_the_stored_set_without_case():
    draft = EntryDraft({"enabledService": ["mail", "displayedInGlobalAddressBook"]})
    kinds.USER.apply(draft, {"addService": "imap,MAIL", "removeService":
                             "displayedinglobaladdressbook"}, _Caller(True), creating=False)
    assert draft.get("enabledService") == ["mail", "imap"]


def test_only_global_admins_grant_an_admin_login():
    with pytest.raises(PermissionDenied):
        kinds.USER.apply(EntryDraft(), {"addService": "domainadmin"}, _Caller(False),
                         creating=False)


def test_item_codecs():
    assert fields.Word(("a", "b")).encode("p", " B ") == ["b"]
    with pytest.raises(BadRequest):
        fields.Word(("a", "b")).encode("p", "c")
    with pytest.raises(BadRequest):
        fields.Word().encode("p", "no spaces")
    assert fields.DomainName().encode("p", "Example.COM") == ["example.com"]
    with pytest.raises(BadRequest) as caught:
        fields.DomainName().encode("p", "example.com\n")
    assert caught.value.code == "INVALID_DOMAIN_NAME"


@pytest.mark.parametrize("account,caller,beyond", [
    ({}, {}, False),
    ({"create_new_domains": "yes"}, {}, True),
    ({"create_new_domains": "yes"}, {"create_new_domains": "yes"}, False),
    ({"create_new_domains": "yes"}, {"create_new_domains": "yes", "create_max_domains": "2"},
     True),                                                   # no limit against a limit
    ({"create_new_domains": "yes", "create_max_domains": "3"},
     {"create_new_domains": "yes", "create_max_domains": "2"}, True),
    ({"create_new_domains": "yes", "create_max_domains": "2"},
     {"create_new_domains": "yes", "create_max_domains": "2"}, False),
    ({"create_new_domains": "yes", "create_max_domains": "1"},
     {"create_new_domains": "yes"}, False),
    ({"create_new_domains": "yes", "create_max_quota": "2", "create_quota_unit": "GB"},
     {"create_new_domains": "yes", "create_max_quota": "1024", "create_quota_unit": "MB"},
     True),
    ({"create_new_domains": "yes", "create_max_quota": "1", "create_quota_unit": "GB"},
     {"create_new_domains": "yes", "create_max_quota": "1024"}, False),
    ({"create_new_domains": "no"}, {}, False),
])
def test_an_admin_that_may_create_more_domains_is_beyond_the_caller(account, caller, beyond):
    assert may_create_more(account, caller) is beyond
