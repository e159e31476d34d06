"""A write cut short by an outage: a 503 means nothing happened, or an intent is left that
a repeat of the request, a create of the same address, or `doctor --fix` finishes."""

import threading
import time

import pytest

from iredapi_ldap.policy.journal import Journal
from iredapi_ldap.policy.store import SqlPolicyStore

from .. import helpers
from ..helpers import login, reply, session_cookie
from .test_policy_lifecycle import give_policies
from .test_races import policy_rows


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


def broken(policy_urls, tmp_path, database):
    """A store whose `database` cannot be reached (the others can)."""
    return SqlPolicyStore({**policy_urls,
                           database: f"sqlite:///{tmp_path}/missing/{database}.db"})


def rows(store, mail):
    return [r for r in store.deleted_mailboxes() if r["username"] == mail]


@pytest.fixture
def user_with_policies(policy_client, admin, directory, layout, domain):
    """Makes a user of `domain` with a spam policy, throttles and greylisting; its address."""
    def make(local):
        mail = f"{local}@{domain}"
        helpers.add_mail_user(directory, layout, mail)
        give_policies(policy_client, admin, mail)
        return mail
    return make


def test_a_delete_cut_short_after_its_commit_is_finished_by_its_repeat(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain,
        tmp_path, user_with_policies):
    mail = user_with_policies("half")
    client = make_client(policy=broken(policy_urls, tmp_path, "iredapd"))
    result = client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/5", cookies=admin)
    assert reply(result) == (503, False, "DATABASE_UNAVAILABLE")
    assert directory.get(layout.user_dn(mail)) is None  # the commit happened
    pending, = rows(store, mail)
    assert pending["delete_date"] is None  # recorded, but never purged as it stands
    assert len(Journal(store.databases).pending(mail)) == 1
    result = policy_client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/5",
                                           cookies=admin)
    assert reply(result) == (200, True, None)
    done, = rows(store, mail)
    assert done["delete_date"] is not None and done["admin"].endswith("@example.com")
    assert policy_rows(policy_urls, [mail])[mail] == 0
    assert Journal(store.databases).pending() == []


def test_a_new_account_never_inherits_an_unfinished_delete(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain,
        tmp_path, user_with_policies):
    mail = user_with_policies("namesake")
    client = make_client(policy=broken(policy_urls, tmp_path, "amavisd"))
    result = client.simulate_delete(f"/api/user/{mail}", cookies=admin)
    assert reply(result) == (503, False, "DATABASE_UNAVAILABLE")
    assert policy_rows(policy_urls, [mail])[mail] > 0  # the policies are still there...
    result = helpers.form(policy_client, "POST", f"/api/user/{mail}",
                          {"password": "N3w-Passw0rd!x"}, cookies=admin)
    assert reply(result) == (200, True, None)
    assert policy_rows(policy_urls, [mail])[mail] == 0  # ...and the new account has none
    done, = rows(store, mail)
    assert done["delete_date"] is None and done["admin"].endswith("@example.com")


def test_a_delete_the_database_refuses_changes_nothing(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain,
        tmp_path, user_with_policies):
    mail = user_with_policies("kept")
    before = policy_rows(policy_urls, [mail])[mail]
    client = make_client(policy=broken(policy_urls, tmp_path, "iredadmin"))
    result = client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/1", cookies=admin)
    assert reply(result) == (503, False, "DATABASE_UNAVAILABLE")
    assert directory.get(layout.user_dn(mail)) is not None
    assert rows(store, mail) == [] and policy_rows(policy_urls, [mail])[mail] == before


def test_a_delete_the_directory_refuses_records_no_mailbox(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain,
        user_with_policies):
    mail = user_with_policies("stays")
    client = make_client(directory=helpers.Refusing(directory, "delete"), policy=store)
    result = client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/1", cookies=admin)
    assert reply(result) == (503, False, "DIRECTORY_UNAVAILABLE")
    assert directory.get(layout.user_dn(mail)) is not None
    assert all(r["delete_date"] is None for r in rows(store, mail))  # nothing to purge
    # Tried again at once, it waits: slapd might still carry out a write whose answer was
    # lost, for up to LDAP_TIMEOUT seconds.
    result = policy_client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/1",
                                           cookies=admin)
    assert reply(result) == (409, False, "CONCURRENT_UPDATE")
    assert directory.get(layout.user_dn(mail)) is not None
    # After that, it happens, once: the row of the attempt that never happened is gone.
    patient = make_client(policy=store, ldap_timeout=1)
    time.sleep(1.1)
    result = patient.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/1", cookies=admin)
    assert reply(result) == (200, True, None), result.json
    done, = rows(store, mail)
    assert done["delete_date"] is not None
    assert Journal(store.databases).pending() == []


def test_doctor_fix_finishes_what_an_outage_left(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain,
        tmp_path, base_settings, user_with_policies):
    mail, alias = user_with_policies("gone"), f"points@{domain}"
    assert reply(helpers.form(policy_client, "POST", f"/api/alias/{alias}",
                              {"members": mail}, cookies=admin))[1]
    client = make_client(policy=broken(policy_urls, tmp_path, "iredapd"))
    assert reply(client.simulate_delete(f"/api/user/{mail}", cookies=admin))[0] == 503
    config = helpers.write_config(
        tmp_path / "doctor.yaml", base_settings, DATA_DIR=tmp_path / "data",
        **{f"{name.upper()}_DB_URL": url for name, url in policy_urls.items()})
    run = helpers.run_cli("doctor", "--config", config)
    assert run.returncode == 1 and f"unfinished: delete_user {mail}" in run.stdout
    run = helpers.run_cli("doctor", "--config", config, "--fix")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"delete_user {mail}: finished" in run.stdout
    assert policy_rows(policy_urls, [mail])[mail] == 0
    aliased = directory.get(f"mail={alias},{layout.container_dn(domain, 'Aliases')}")
    assert aliased.get("mailForwardingAddress") == []
    assert rows(store, mail)[0]["admin"].endswith("@example.com")
    run = helpers.run_cli("doctor", "--config", config)
    assert run.returncode == 0, run.stdout


class RenamedAfterCheck:
    """The real directory, except that the user at `dn` is renamed away (here: deleted)
    right after a request checked that it exists, before its policy write lands."""

    def __init__(self, directory, dn):
        self._directory, self._dn = directory, dn

    def __getattr__(self, name):
        return getattr(self._directory, name)

    def get(self, dn, *args, **kwargs):
        entry = self._directory.get(dn, *args, **kwargs)
        if dn == self._dn and entry is not None:
            self._directory.delete(dn)
        return entry


def test_a_policy_written_behind_a_rename_is_taken_back(
        make_client, admin, store, policy_urls, directory, layout, domain):
    mail, new = f"moving@{domain}", f"moved@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    journal = Journal(store.databases)
    # A rename under way, which has already moved the rows; it finishes a moment later.
    rename = journal.begin("rename_user", mail, {"old": mail, "new": new}, also=[new])
    finishing = threading.Timer(0.5, journal.finish, (rename,))
    finishing.start()
    client = make_client(directory=RenamedAfterCheck(directory, layout.user_dn(mail)),
                         policy=store)
    result = helpers.form(client, "PUT", f"/api/spampolicy/user/{mail}",
                          {"bypass_spam_checks": "yes"}, cookies=admin)
    finishing.join()
    assert reply(result) == (404, False, "NO_SUCH_ACCOUNT")
    assert policy_rows(policy_urls, [mail])[mail] == 0  # nothing left for a namesake
