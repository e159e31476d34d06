"""The suite's MariaDB databases are put back, for each test, to exactly what iRedMail's
installer made (`MariaDB.pristine_iredmail_databases`): same rows, same AUTO_INCREMENT
counters, same schema; a test that changed the schema gets a fresh load."""

import pytest
from sqlalchemy import create_engine, text

from .. import helpers

UPSTREAM = helpers.reference_dir() / "upstream-sql"


def dump(url):
    """Every table's rows and AUTO_INCREMENT counter, and the triggers, of the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            database = conn.execute(text("SELECT DATABASE()")).scalar()
            tables = dict(conn.execute(text(
                "SELECT table_name, auto_increment FROM information_schema.tables "
                "WHERE table_schema = :db"), {"db": database}).all())
            rows = {table: sorted(map(repr, conn.execute(text(f"SELECT * FROM {table}"))))
                    for table in tables}
            triggers = conn.execute(text("SELECT trigger_name FROM information_schema.triggers "
                                         "WHERE trigger_schema = :db"), {"db": database}).all()
        return tables, rows, sorted(triggers)
    finally:
        engine.dispose()


def execute(url, *statements):
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def fresh(mariadb):
    """The databases of a fresh load (prefix `fresh`) and their dumps."""
    with mariadb.iredmail_databases("fresh", UPSTREAM) as urls:
        yield {name: dump(url) for name, url in urls.items()}


def test_a_reset_puts_back_rows_and_counters(mariadb, fresh):
    urls = mariadb.pristine_iredmail_databases("reset", UPSTREAM)
    assert {name: dump(url) for name, url in urls.items()} == fresh
    execute(urls["amavisd"],
            "INSERT INTO policy (policy_name) VALUES ('one'), ('two')",
            "DELETE FROM policy WHERE policy_name = 'two'",
            "UPDATE policy SET spam_lover = 'Y'",  # the upstream default row too
            # the same rows, a higher counter
            "INSERT INTO mailaddr (priority, email) VALUES (7, 'x@example.org')",
            "DELETE FROM mailaddr")
    execute(urls["iredapd"], "DELETE FROM greylisting",
            "INSERT INTO throttle (account, kind, priority, period) "
            "VALUES ('@.', 'inbound', 0, 60)")
    execute(urls["iredadmin"],
            "INSERT INTO log (admin, ip, msg) VALUES ('a', '127.0.0.1', 'written')")
    assert {name: dump(url) for name, url in urls.items()} != fresh
    again = mariadb.pristine_iredmail_databases("reset", UPSTREAM)
    assert again == urls
    assert {name: dump(url) for name, url in urls.items()} == fresh


def test_a_changed_schema_gets_a_fresh_load(mariadb, fresh):
    urls = mariadb.pristine_iredmail_databases("schema", UPSTREAM)
    execute(urls["iredapd"], "DROP TRIGGER IF EXISTS nothing_here",
            "ALTER TABLE throttle ADD COLUMN extra INT")
    execute(urls["iredadmin"], "DROP TABLE log", "DROP TRIGGER used_quota_before_insert")
    urls = mariadb.pristine_iredmail_databases("schema", UPSTREAM)
    assert {name: dump(url) for name, url in urls.items()} == fresh
