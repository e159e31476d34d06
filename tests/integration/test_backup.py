"""LDIF export endpoints, and export/import/doctor from the command line."""

import secrets

from falcon import testing

from iredapi_ldap.devslapd import IRedMailSlapd
from iredapi_ldap.directory import Scope

from .. import helpers
from ..helpers import form, login, reply, session_cookie

PASSWORD = "Us3r-Passw0rd!"


def build_domain(client, cookies, domain):
    """A domain with what an export must carry: non-ASCII names, aliases, a list with
    internal and external members, catch-all, BCC, relay, an alias domain."""
    alias_domain = f"t-{secrets.token_hex(4)}.test"
    calls = [
        ("PUT", f"/api/domain/{domain}", {"addAliasDomain": alias_domain,
                                          "senderBcc": "audit@example.org",
                                          "outboundRelay": "[192.0.2.25]:587"}),
        ("POST", f"/api/user/jorg@{domain}", {"password": PASSWORD, "name": "Jörg Müller"}),
        ("POST", f"/api/user/ana@{domain}", {"password": PASSWORD, "name": " Ana: leading"}),
        ("PUT", f"/api/user/ana@{domain}", {"forwarding": f"jorg@{domain},x@example.net",
                                            "recipientBcc": "in@example.org"}),
        ("POST", f"/api/alias/sales@{domain}", {"members": f"ana@{domain},o@example.org"}),
        ("POST", f"/api/maillist/all@{domain}", {"members": f"jorg@{domain},ana@{domain},"
                                                            "friend@example.org"}),
        ("PUT", f"/api/domain/{domain}", {"catchall": f"ana@{domain}"}),
    ]
    for method, path, data in calls:
        assert reply(form(client, method, path, data, cookies=cookies)) == (200, True, None), path
    return alias_domain


def snapshot(directory, layout, domain):
    return {e.dn.lower(): {k.lower(): sorted(v) for k, v in e.attrs.items()}
            for e in directory.search(layout.domain_dn(domain), "(objectClass=*)", Scope.SUB)}


def answers(mailstack, domain, alias_domain):
    keys = [f"jorg@{domain}", f"ana@{domain}", f"sales@{domain}", f"all@{domain}",
            f"@{domain}", f"jorg@{alias_domain}"]
    return {(table, key): mailstack.lookup(table, key) for key in keys
            for table in ("virtual_mailbox_maps", "virtual_alias_maps", "virtual_group_maps",
                          "catchall_maps", "sender_bcc_maps_domain", "recipient_bcc_maps_user",
                          "sender_dependent_relayhost_maps_domain")} | {
        ("dovecot", key): mailstack.dovecot_finds(key) for key in keys}


def test_round_trip_through_export_and_import(client, admin_cookies, domain, directory,
                                              layout, mailstack, base_settings, tmp_path):
    alias_domain = build_domain(client, admin_cookies, domain)
    before, oracle = snapshot(directory, layout, domain), answers(mailstack, domain,
                                                                  alias_domain)
    result = client.simulate_get(f"/api/ldif/domain/{domain}", cookies=admin_cookies,
                                 headers={"Accept": "text/ldif"})
    assert result.status_code == 200 and result.headers["content-type"].startswith("text/ldif")
    export = tmp_path / "domain.ldif"
    export.write_text(result.text)
    assert "cn:: " in result.text  # non-ASCII and leading-space values are base64
    assert "userPassword" in result.text and "entryUUID" not in result.text
    directory.delete(layout.domain_dn(domain), subtree=True)
    assert mailstack.lookup("virtual_mailbox_maps", f"jorg@{domain}") == []
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    run = helpers.run_cli("import", str(export), "--config", config)
    assert run.returncode == 0, run.stderr
    assert f"imported {len(before)} entries: {len(before)} added" in run.stdout
    assert snapshot(directory, layout, domain) == before
    assert answers(mailstack, domain, alias_domain) == oracle


def test_export_loads_with_ldapadd_into_a_bare_slapd(client, admin_cookies, domain, layout):
    build_domain(client, admin_cookies, domain)
    text = client.simulate_get(f"/api/ldif/domain/{domain}", cookies=admin_cookies,
                               headers={"Accept": "text/ldif"}).text
    bare = IRedMailSlapd()
    bare.start(preload=f"dn: {bare.suffix}\nobjectClass: dcObject\nobjectClass: organization\n"
                       f"dc: example\no: example\n\ndn: o=domains,{bare.suffix}\n"
                       f"objectClass: organization\no: domains\n")
    try:
        bare.ldapadd(text)  # OpenLDAP's own ldapadd; raises if slapd refuses an entry
        import subprocess
        found = subprocess.run(
            ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", bare.ldapi_uri, "-b",
             layout.domain_dn(domain), "(objectClass=mailUser)", "mail"],
            capture_output=True, text=True, check=True).stdout
        assert f"mail: jorg@{domain}" in found and f"mail: @{domain}" in found
    finally:
        bare.stop()


def test_json_form_and_every_kind(client, admin_cookies, domain, directory, layout):
    build_domain(client, admin_cookies, domain)
    mail = f"adm-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, mail)
    try:
        for kind, name, dns in (
                ("catchall", domain, [f"mail=@{domain},"]),
                ("user", f"jorg@{domain}", [f"mail=jorg@{domain},"]),
                ("alias", f"sales@{domain}", [f"mail=sales@{domain},"]),
                ("maillist", f"all@{domain}", [f"mail=all@{domain},",
                                               f"memberOfGroup=all@{domain},"]),
                ("admin", mail, [f"mail={mail},"])):
            result = client.simulate_get(f"/api/ldif/{kind}/{name}", cookies=admin_cookies)
            assert result.status_code == 200 and result.json["_success"] is True, kind
            starts = [line[4:] for line in result.json["_data"].splitlines()
                      if line.startswith("dn: ")]
            assert [any(s.startswith(d) for s in starts) for d in dns] == [True] * len(dns), kind
        assert reply(client.simulate_get(f"/api/ldif/user/ghost@{domain}",
                                         cookies=admin_cookies)) == (404, False, "NO_SUCH_ACCOUNT")
        assert reply(client.simulate_get(f"/api/ldif/everything/{domain}",
                                         cookies=admin_cookies))[:2] == (404, False)
    finally:
        directory.delete(layout.admin_dn(mail))


def test_normal_admins_export_only_their_domains(client, domain, domain_admin):
    cookies = session_cookie(login(client, domain_admin))
    assert client.simulate_get(f"/api/ldif/domain/{domain}", cookies=cookies).status_code == 200
    for path in ("/api/ldif/domain/example.com", "/api/ldif/user/postmaster@example.com",
                 f"/api/ldif/admin/{domain_admin}"):
        assert reply(client.simulate_get(path, cookies=cookies)) == (
            403, False, "PERMISSION_DENIED"), path


class WatchedSearches:
    """The real directory; records whether its paged searches have been read to the end."""

    def __init__(self, directory):
        self._directory = directory
        self.finished = []  # search bases read to the end

    def __getattr__(self, name):
        return getattr(self._directory, name)

    def search(self, base, *args, **kwargs):
        yield from self._directory.search(base, *args, **kwargs)
        self.finished.append(base.lower())


def test_export_streams_before_the_search_ends(base_settings, directory, layout, domain,
                                               accounts):
    for i in range(30):
        helpers.add_mail_user(directory, layout, f"s{i:02d}@{domain}",
                              stored_password="{SSHA}x")
    from iredapi_ldap.app import create_app
    watched = WatchedSearches(directory)
    app = create_app(base_settings, watched)
    cookies = session_cookie(login(testing.TestClient(app), accounts.admin_mail,
                                   accounts.admin_password))
    environ = testing.create_environ(f"/api/ldif/domain/{domain}",
                                     headers={"Accept": "text/ldif",
                                              "Cookie": "; ".join(f"{k}={v}" for k, v
                                                                  in cookies.items())})
    body = iter(app(environ, lambda status, headers: None))
    first = next(body)
    assert first.startswith(b"dn: domainName=")
    users_started = b""
    while b"ou=Users" not in users_started or b"mail=s" not in users_started:
        users_started += next(body)
    # The users' level search is still being read while its first entries are out.
    assert layout.container_dn(domain, "Users").lower() not in watched.finished
    rest = b"".join(body)
    assert (users_started + rest).count(b"dn: mail=s") == 30


def test_import_dry_run_names_invalid_entries_and_writes_nothing(base_settings, tmp_path, domain,
                                                                 directory, layout):
    dn = f"mail=bad@{domain},{layout.container_dn(domain, 'Users')}"
    bad = tmp_path / "bad.ldif"
    bad.write_text(f"dn: {dn}\nobjectClass: mailUser\nobjectClass: inetOrgPerson\n"
                   f"mail: bad@{domain}\ncn: x\nnoSuchAttribute: 1\n\n"
                   f"dn: mail=ok@{domain},{layout.container_dn(domain, 'Users')}\n"
                   f"objectClass: mailAlias\nmail: ok@{domain}\n")
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    for extra in (["--dry-run"], []):
        run = helpers.run_cli("import", str(bad), "--config", config, *extra)
        assert run.returncode == 1
        assert f"invalid: {dn}: unknown attribute noSuchAttribute" in run.stderr
        assert f"invalid: {dn}: missing required attribute" in run.stderr  # uid and sn
        assert "nothing written" in run.stdout
    assert directory.get(dn) is None
    assert directory.get(f"mail=ok@{domain},{layout.container_dn(domain, 'Users')}") is None


def test_import_conflicts(base_settings, tmp_path, domain, directory, layout):
    mail = f"c@{domain}"
    helpers.add_mail_user(directory, layout, mail, cn=["Original"])
    export = tmp_path / "user.ldif"
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    run = helpers.run_cli("export", "--domain", domain, "-o", str(export), "--config", config)
    assert run.returncode == 0, run.stderr
    directory.modify(layout.user_dn(mail), [helpers.replace("cn", "Changed"),
                                            helpers.replace("title", "Extra")])
    fail = helpers.run_cli("import", str(export), "--config", config)
    assert fail.returncode == 1 and "exists already" in fail.stderr
    skip = helpers.run_cli("import", str(export), "--config", config, "--on-conflict", "skip")
    assert skip.returncode == 0 and "0 added" in skip.stdout
    assert directory.get(layout.user_dn(mail)).first("cn") == "Changed"
    replace = helpers.run_cli("import", str(export), "--config", config, "--on-conflict",
                              "replace")
    assert replace.returncode == 0, replace.stderr
    entry = directory.get(layout.user_dn(mail))
    assert entry.first("cn") == "Original" and entry.first("title") is None


def test_doctor_reports_and_fixes_drift(client, admin_cookies, domain, directory, layout,
                                        base_settings, tmp_path):
    form(client, "POST", f"/api/user/d@{domain}", {"password": PASSWORD, "quota": "5"},
         cookies=admin_cookies)
    directory.modify(layout.domain_dn(domain), [helpers.replace("domainCurrentUserNumber",
                                                                "7")])
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    report = helpers.run_cli("doctor", "--config", config)
    assert report.returncode == 1
    assert f"{domain}: domainCurrentUserNumber is 7, counted 1" in report.stdout
    fixed = helpers.run_cli("doctor", "--config", config, "--fix")
    assert fixed.returncode == 0 and "(fixed)" in fixed.stdout
    assert directory.get(layout.domain_dn(domain)).first("domainCurrentUserNumber") == "1"
    clean = helpers.run_cli("doctor", "--config", config)
    assert f"{domain}:" not in clean.stdout


def test_export_all_from_the_command_line(base_settings, tmp_path, domain):
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    run = helpers.run_cli("export", "--all", "--config", config)
    assert run.returncode == 0, run.stderr
    dns = [line[4:] for line in run.stdout.splitlines() if line.startswith("dn: ")]
    assert dns[0].startswith("o=domains,") and any(d.startswith("o=domainAdmins,") for d in dns)
    position = {dn.lower(): i for i, dn in enumerate(dns)}
    for dn, i in position.items():  # every parent comes before its children
        parent = dn.split(",", 1)[1]
        assert parent not in position or position[parent] < i
    assert run.stderr.strip().endswith(f"exported {len(dns)} entries")


def _one_line_error(run, status):
    """The command failed with `status` and said why in one line, no traceback."""
    assert run.returncode == status, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("iredapi-ldap: "), run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    return lines[0]


def test_import_refuses_a_missing_or_non_ldif_file_in_one_line(base_settings, tmp_path):
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    missing = tmp_path / "missing.ldif"
    line = _one_line_error(helpers.run_cli("import", str(missing), "--config", config), 2)
    assert line == f"iredapi-ldap: cannot read {missing}: No such file or directory"
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes\nnot LDIF\n")
    line = _one_line_error(helpers.run_cli("import", str(text), "--config", config), 2)
    assert line.startswith(f"iredapi-ldap: {text} is not LDIF: ")
    binary = tmp_path / "image.ldif"
    binary.write_bytes(b"dn: cn=x\ncn: \xff\xfe\n")
    _one_line_error(helpers.run_cli("import", str(binary), "--config", config), 2)
    changes = tmp_path / "changes.ldif"
    changes.write_text("dn: cn=x,dc=example,dc=com\nchangetype: delete\n")
    line = _one_line_error(helpers.run_cli("import", str(changes), "--config", config), 2)
    assert "change record" in line


def test_commands_with_the_directory_down_fail_in_one_line(base_settings, tmp_path):
    closed = base_settings.replace(ldap_uri=(f"ldap://127.0.0.1:{helpers.free_port()}",))
    config = helpers.write_config(tmp_path / "settings.yaml", closed,
                                  DATA_DIR=str(tmp_path / "data"))
    ldif = tmp_path / "one.ldif"
    ldif.write_text("dn: o=domains,dc=example,dc=com\nobjectClass: organization\no: domains\n")
    for command in (["doctor"], ["export", "--all"], ["import", str(ldif)]):
        line = _one_line_error(helpers.run_cli(*command, "--config", config), 1)
        assert line.startswith("iredapi-ldap: DIRECTORY_UNAVAILABLE: the directory is "
                               "unreachable ("), command
        assert "{" not in line and "'desc'" not in line, line  # a sentence, not a dict


def _on_a_terminal(*args):
    """(exit status, stdout, stderr) of `iredapi-ldap ARGS` whose stderr is a terminal."""
    import os
    import pty
    import subprocess
    import sys
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "iredapi_ldap", *args],
                                stdout=subprocess.PIPE, stderr=slave, text=True,
                                env=helpers.server_environment())
        os.close(slave)
        terminal = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not data:
                break
            terminal += data
        out = proc.stdout.read()
        return proc.wait(timeout=60), out, terminal.decode()
    finally:
        os.close(master)


def test_progress_bar_on_a_terminal(base_settings, tmp_path, domain, directory, layout):
    for i in range(5):
        helpers.add_mail_user(directory, layout, f"p{i}@{domain}", stored_password="{SSHA}x")
    config = helpers.write_config(tmp_path / "settings.yaml", base_settings)
    export = tmp_path / "domain.ldif"
    status, _, terminal = _on_a_terminal("export", "--domain", domain, "-o", str(export),
                                         "--config", config)
    entries = export.read_text().count("\ndn: ") + 1
    assert status == 0 and entries > 5, terminal
    # The final state of the line: a full bar, count of total, rate, time taken.
    assert f"] 100%  {entries}/{entries} entries  " in terminal and "/s  in 0:" in terminal
    assert "exported [" in terminal and f"exported {entries} entries" in terminal
    status, out, terminal = _on_a_terminal("import", str(export), "--dry-run",
                                           "--config", config)
    assert status == 0 and f"checked {entries} entries: 0 problem(s); valid" in out
    assert f"read {entries} entries  " in terminal  # the count alone: the total is unknown
    assert "checked [" in terminal and f"{entries}/{entries} entries" in terminal
    assert "Traceback" not in terminal
