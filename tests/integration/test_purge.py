"""iredapi-ldap purge-mailboxes."""

import datetime

from iredapi_ldap.services.purge import purge_mailboxes

from .. import helpers

TODAY = datetime.date(2026, 11, 23)


def row(username, maildir, days_ago):
    return {"username": username, "domain": username.split("@")[1], "maildir": maildir,
            "admin": "postmaster@example.com",
            "delete_date": None if days_ago is None else TODAY - datetime.timedelta(days_ago)}


def test_purge_rules(store, repo, directory, layout, domain, tmp_path):
    base = tmp_path / "vmail"
    due, future, forever, live, outside = (base / "due", base / "future", base / "forever",
                                           base / "live", tmp_path / "outside")
    holder, inner = base / "holder", base / "holder" / "x" / "inner"
    for path in (due, future, forever, live, outside, inner):
        (path / "Maildir" / "cur").mkdir(parents=True)
    link = base / "sneaky"
    link.symlink_to(outside)
    helpers.add_mail_user(directory, layout, f"back@{domain}", homeDirectory=[f"{live}/"])
    helpers.add_mail_user(directory, layout, f"inner@{domain}", homeDirectory=[f"{inner}/"])
    store.record_deleted_mailboxes([
        row(f"a@{domain}", f"{due}/", 1), row(f"b@{domain}", f"{future}/", -3),
        row(f"c@{domain}", f"{forever}/", None), row(f"back@{domain}", f"{live}/", 5),
        row(f"d@{domain}", f"{outside}/", 5), row(f"e@{domain}", f"{link}/", 5),
        row(f"f@{domain}", f"{base}/../outside/", 5), row(f"g@{domain}", f"{base}", 5),
        # A folder that holds a live mailbox, and one inside a live mailbox.
        row(f"h@{domain}", f"{holder}/", 5), row(f"i@{domain}", f"{live}/Maildir/cur", 5)])
    lines = []
    dry = purge_mailboxes(store, repo, str(base), dry_run=True, today=TODAY,
                          progress=lines.append)
    assert dry.removed == [str(due)] and due.exists() and len(store.deleted_mailboxes()) == 10
    assert any("would remove" in line for line in lines)
    report = purge_mailboxes(store, repo, str(base), today=TODAY,
                             progress=lambda line: None)
    assert report.removed == [str(due)] and not due.exists()
    assert future.exists() and forever.exists() and live.exists() and outside.exists()
    reasons = dict(report.skipped)
    assert reasons[f"{live}/"].startswith(f"still the mailbox of back@{domain}")
    assert reasons[f"{holder}/"].startswith(f"still the mailbox of inner@{domain}")
    assert reasons[f"{live}/Maildir/cur"].startswith(f"still the mailbox of back@{domain}")
    assert holder.exists() and inner.exists()
    for path in (f"{outside}/", f"{link}/", f"{base}/../outside/", f"{base}"):
        assert reasons[path].startswith("outside STORAGE_BASE_DIRECTORY"), path
    remaining = {r["username"] for r in store.deleted_mailboxes()}
    assert f"a@{domain}" not in remaining and len(remaining) == 9


def test_command_line_dry_run(tmp_path, base_settings):
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings,
                                  DATA_DIR=tmp_path / "data",
                                  STORAGE_BASE_DIRECTORY=tmp_path / "vmail")
    run = helpers.run_cli("purge-mailboxes", "--config", config, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("would remove 0 mailbox(es), skipped 0")
