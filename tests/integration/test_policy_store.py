"""The SQL store itself: outages, table creation rules, deleted mailboxes."""

import datetime
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

from ..helpers import login, reply, session_cookie


def table_names(url):
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture(params=["mariadb", "postgresql"])
def server_and_urls(request):
    """(database server, {'amavisd': url, ...}) of empty databases on a real server."""
    server = request.getfixturevalue(request.param)
    with server.empty_databases("outage") as urls:
        yield server, urls


@pytest.fixture
def server_urls(server_and_urls):
    return server_and_urls[1]


def test_database_down_then_back(make_client, server_and_urls, accounts):
    server, urls = server_and_urls
    store = SqlPolicyStore(urls)
    store.create_missing_tables()
    client = make_client(policy=store)
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    path = "/api/greylisting/example.com"
    assert client.simulate_get(path, cookies=cookies).status_code == 200
    server.stop()
    try:
        result = client.simulate_get(path, cookies=cookies)
        assert reply(result) == (503, False, "DATABASE_UNAVAILABLE")
        assert "Traceback" not in result.text
        assert "pymysql" not in result.text.lower() and "psycopg" not in result.text.lower()
    finally:
        server.restart()
    assert reply(client.simulate_get(path, cookies=cookies)) == (200, True, None)


def test_configured_databases_are_not_altered_by_the_server(make_client, server_urls,
                                                            base_settings):
    settings_changes = {f"{name}_db_url": url for name, url in server_urls.items()}
    make_client(**settings_changes)  # builds the app with the SQL store of these URLs
    assert all(table_names(url) == set() for url in server_urls.values())


def test_db_init_creates_missing_tables_once(server_urls, tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("LDAP_BIND_PASSWORD: x\n" + "".join(
        f"{name.upper()}_DB_URL: '{url}'\n" for name, url in server_urls.items()))
    command = [sys.executable, "-m", "iredapi_ldap", "db", "init", "--config", str(config)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "amavisd" in first.stdout and "policy, users" in first.stdout
    assert "throttle" in first.stdout and "deleted_mailboxes" in first.stdout
    password = make_url(server_urls["amavisd"]).password
    assert ":***@" in first.stdout and password not in first.stdout
    assert {"policy", "users"} <= table_names(server_urls["amavisd"])
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert second.stdout.count("nothing to create") == 3


def test_db_init_reports_unreachable_database(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("LDAP_BIND_PASSWORD: x\n"
                      "AMAVISD_DB_URL: 'mysql+pymysql://u:p@127.0.0.1:1/amavisd'\n"
                      f"DATA_DIR: '{tmp_path}'\n")
    run = subprocess.run([sys.executable, "-m", "iredapi_ldap", "db", "init", "--config",
                          str(config)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("iredapi-ldap: DATABASE_UNAVAILABLE")
    assert "Connection refused" in run.stderr  # the cause, from the log line before it
    assert "Traceback" not in run.stderr


def test_embedded_sqlite_tables_created_on_first_start(make_client, tmp_path):
    make_client(data_dir=str(tmp_path))
    for name, metadata in DATABASES.items():
        assert set(metadata.tables) <= table_names(f"sqlite:///{tmp_path / name}.sqlite")


def test_deleted_mailboxes(store):
    store.record_deleted_mailboxes([
        {"username": "a@x.test", "domain": "x.test", "maildir": "/var/vmail/vmail1/x.test/a/",
         "admin": "postmaster@x.test", "delete_date": datetime.date(2026, 12, 24)},
        {"username": "b@x.test", "domain": "x.test", "maildir": "/var/vmail/vmail1/x.test/b/",
         "admin": "postmaster@x.test", "delete_date": None}])
    rows = store.deleted_mailboxes()
    assert [(r["username"], r["delete_date"]) for r in rows] == [
        ("a@x.test", datetime.date(2026, 12, 24)), ("b@x.test", None)]
    assert all(r["timestamp"] is not None for r in rows)


@pytest.mark.parametrize("in_savepoint", [False, True])
def test_a_deadlock_is_retried_not_an_outage(server_and_urls, in_savepoint):
    """A real deadlock: our transaction locks row a then b, another locks b then a. The
    server rolls one back to break it (MariaDB: the one that changed less; PostgreSQL: the
    one that looks for deadlocks first): ours, rolled back, runs again instead of answering
    503. Also when ours waits inside a savepoint (`begin_nested()`, as the store's inserts
    do): MariaDB's rollback takes the savepoint with it, and what surfaces is the failed
    ROLLBACK TO SAVEPOINT that follows, the deadlock only its context."""
    import contextlib
    import threading

    from sqlalchemy import text
    server, urls = server_and_urls
    store = SqlPolicyStore(urls)
    store.create_missing_tables()
    engine = create_engine(urls["iredadmin"])
    with engine.begin() as conn:
        for key in ("a", "b", *(f"pad{i}" for i in range(20))):
            conn.execute(text("INSERT INTO tracking (k, v) VALUES (:k, '')"), {"k": key})
    attempts, ready, other_result = [], threading.Event(), []

    def other():
        try:
            with engine.begin() as conn:  # heavier: it changes 21 rows before it waits
                if engine.dialect.name == "postgresql":  # and PostgreSQL checks it later
                    conn.execute(text("SET LOCAL deadlock_timeout = '20s'"))
                for key in ("b", *(f"pad{i}" for i in range(20))):  # row by row: no scan
                    conn.execute(text("UPDATE tracking SET v = 'o' WHERE k = :k"), {"k": key})
                ready.set()
                conn.execute(text("UPDATE tracking SET v = 'o' WHERE k = 'a'"))
            other_result.append("committed")
        except Exception as exc:  # it may be the one rolled back instead
            other_result.append(type(exc).__name__)

    def work(conn):
        attempts.append(1)
        conn.execute(text("UPDATE tracking SET v = 'w' WHERE k = 'a'"))
        if len(attempts) == 1:
            thread = threading.Thread(target=other)
            thread.start()
            ready.wait(10)
            work.thread = thread
        with conn.begin_nested() if in_savepoint else contextlib.nullcontext():
            conn.execute(text("UPDATE tracking SET v = 'w' WHERE k = 'b'"))
        return "done"

    assert store.databases.write("iredadmin", work) == "done"
    work.thread.join(30)
    engine.dispose()
    assert (other_result, len(attempts)) == (["committed"], 2)


def test_kept_mailbox_near_finds_only_the_path_above_and_below(store):
    """A kept mailbox at the path, in a folder above it or below it blocks it; a sibling
    whose name merely starts alike does not, nor does one that LIKE's wildcards (`_`,
    `%`) in the path would match."""
    base = "/var/vmail/vmail1/x.test"
    kept = {"exact": f"{base}/a/b/c/abc-1/", "above": f"{base}/q/", "below": f"{base}/z/y/in/",
            "sibling": f"{base}/a/b/c/abc-10/", "wild": f"{base}/w/aXb/"}
    store.record_deleted_mailboxes([
        {"username": f"{name}@x.test", "domain": "x.test", "maildir": path,
         "admin": "postmaster@x.test", "delete_date": None} for name, path in kept.items()])

    def near(path):
        row = store.kept_mailbox_near(path)
        return row and row["username"]
    assert near(f"{base}/a/b/c/abc-1") == "exact@x.test"
    assert near(f"{base}/a/b/c/abc-1/") == "exact@x.test"
    assert near(f"{base}/q/r/s/") == "above@x.test"
    assert near(f"{base}/z/") == "below@x.test"
    assert near(f"{base}/a/b/c/abc-") is None
    assert near(f"{base}/a/b/c/abc-2/") is None
    assert near(f"{base}/w/a_b/") is None and near(f"{base}/w/%/") is None
    assert near(f"{base}/w/a_b/c/") is None


def test_pending_intents_by_subject_and_by_linked_subject(store):
    """`pending` finds an intent by its subject and by the subjects it is also about (a
    rename's new address), once each, oldest first; nothing for another subject."""
    from iredapi_ldap.policy.journal import Journal
    journal = Journal(store.databases)
    first = journal.begin("delete_user", "a@x.test", {"mail": "a@x.test"})
    second = journal.begin("rename_user", "b@x.test", {"old": "b@x.test"}, also=["c@x.test"])
    assert [i.key for i in journal.pending("a@x.test", "c@x.test")] == [first.key, second.key]
    assert [i.key for i in journal.pending("C@x.test")] == [second.key]
    assert [i.key for i in journal.pending("b@x.test", "c@x.test")] == [second.key]
    assert [i.key for i in journal.pending()] == [first.key, second.key]
    assert journal.pending("d@x.test", "@x.test") == []
    journal.finish(second)
    assert [i.key for i in journal.pending("a@x.test", "c@x.test")] == [first.key]


def test_pending_and_kept_in_one_read_answer_as_the_two_reads(store):
    """`pending_and_kept` answers what `pending` and `kept_mailbox_near` answer: the
    intents (by subject, and by a linked subject) and the kept mailbox near the path (a
    pending delete's row counts: its mailbox is not free either)."""
    from iredapi_ldap.policy.journal import Journal
    journal = Journal(store.databases)
    base = "/var/vmail/vmail1/x.test"
    assert journal.pending_and_kept(["n@x.test", "@x.test"], f"{base}/n/") == ([], None)
    deleting = journal.begin("delete_user", "a@x.test", {"mail": "a@x.test"},
                             mailboxes=[{"username": "a@x.test", "domain": "x.test",
                                         "maildir": f"{base}/a/"}])
    renaming = journal.begin("rename_user", "b@x.test", {"old": "b@x.test"}, also=["c@x.test"])
    store.record_deleted_mailboxes([{"username": "k@x.test", "domain": "x.test",
                                     "maildir": f"{base}/k/", "admin": "postmaster@x.test",
                                     "delete_date": None}])
    for subjects, path in ((["a@x.test", "@x.test"], f"{base}/a/Maildir/"),
                           (["c@x.test", "@x.test"], f"{base}/k/"),
                           (["d@x.test", "@x.test"], f"{base}/"),
                           (["d@x.test"], f"{base}/n/"),
                           (["a@x.test", "c@x.test"], f"{base}/k_/")):
        intents, kept = journal.pending_and_kept(subjects, path)
        row = store.kept_mailbox_near(path)
        assert [i.key for i in intents] == [i.key for i in journal.pending(*subjects)]
        assert kept == (row and row["maildir"]), (subjects, path)
    intents, kept = journal.pending_and_kept(["a@x.test", "c@x.test"], f"{base}/a/")
    assert ([i.key for i in intents], kept) == ([deleting.key, renaming.key], f"{base}/a/")
    assert journal.pending_and_kept(["d@x.test"], f"{base}/k/") == ([], f"{base}/k/")


def test_a_lazy_write_does_not_wait_for_the_disk_and_others_still_do(policy_urls):
    """`durable=False` (the admin log): SQLite commits it on a connection with
    synchronous=NORMAL, PostgreSQL with synchronous_commit off for that transaction only;
    every other write keeps syncing. What it wrote is seen at once by another engine."""
    from sqlalchemy import text

    from iredapi_ldap.policy.tables import tracking
    kind = make_url(policy_urls["iredadmin"]).get_backend_name()
    urls = dict(policy_urls)
    if kind == "postgresql":  # the test server's own default is off: sessions that sync
        urls["iredadmin"] = make_url(urls["iredadmin"]).update_query_dict(
            {"options": "-c synchronous_commit=on"}).render_as_string(hide_password=False)
    store = SqlPolicyStore(urls)
    store.create_missing_tables()
    setting = {"sqlite": "PRAGMA synchronous", "postgresql": "SHOW synchronous_commit",
               "mysql": "SELECT 1"}[kind]

    def write(conn):
        conn.execute(tracking.insert().values(k=f"lazy-{kind}", v="x"))
        return str(conn.execute(text(setting)).scalar())
    lazy = store.databases.write("iredadmin", write, durable=False)
    durable = store.databases.write("iredadmin", lambda conn: str(
        conn.execute(text(setting)).scalar()))
    assert (lazy, durable) == {"sqlite": ("1", "2"), "postgresql": ("off", "on"),
                               "mysql": ("1", "1")}[kind]
    engine = create_engine(policy_urls["iredadmin"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM tracking WHERE k = :k"),
                            {"k": f"lazy-{kind}"}).scalar() == "x"
    engine.dispose()
