"""`iredapi_ldap/devslapd/schema/` must define exactly what iRedMail's and amavisd's schemas
define (OID, names, SUP, syntax and length, matching rules, SINGLE-VALUE, MUST/MAY), in our own
words, without copying the upstream files into the repository."""

from pathlib import Path

import pytest

from iredapi_ldap.devslapd.slapd import SCHEMA_DIR
from iredapi_ldap.model.render import INTEGERS, SINGLE_VALUED
from iredapi_ldap.model.schemadefs import parse_config_ldif, parse_schema_file

from ..helpers import reference_dir

REPO = Path(__file__).resolve().parents[2]
PAIRS = [("iredmail.schema", "20-iredmail.ldif"), ("amavisd.schema", "10-amavisd.ldif")]
INTEGER_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.27"


def ours(ldif):
    return parse_config_ldif(SCHEMA_DIR / ldif)


@pytest.mark.parametrize("upstream, ldif", PAIRS)
def test_definitions_match_upstream_exactly(upstream, ldif):
    theirs = {d.oid: d.comparable() for d in parse_schema_file(reference_dir() / upstream)}
    mine = {d.oid: d.comparable() for d in ours(ldif)}
    assert sorted(mine) == sorted(theirs)
    for oid, definition in theirs.items():
        assert mine[oid] == definition, oid


@pytest.mark.parametrize("upstream, ldif", PAIRS)
def test_descriptions_are_our_own(upstream, ldif):
    theirs = {d.oid: d.fields.get("DESC") for d in parse_schema_file(reference_dir() / upstream)}
    mine = {d.oid: d.fields.get("DESC") for d in ours(ldif)}
    same = [oid for oid, desc in mine.items() if desc and desc == theirs.get(oid)]
    assert not same


def test_no_upstream_file_is_copied_into_the_repo():
    upstream = {(reference_dir() / name).read_text().strip() for name, _ in PAIRS}
    marker = "This file is part of iRedMail"
    for path in REPO.rglob("*"):
        if ".git" in path.parts or ".venv" in path.parts or not path.is_file():
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        assert text.strip() not in upstream, path
        assert marker not in text or path.name == "test_schema_files.py", path


def test_reply_tables_agree_with_the_schema():
    """render.py's SINGLE_VALUED/INTEGERS must say what the iRedMail schema says."""
    for definition in ours("20-iredmail.ldif"):
        if definition.kind != "attributetype":
            continue
        name = definition.name.lower()
        assert (name in SINGLE_VALUED) == bool(definition.fields.get("SINGLE-VALUE")), name
        assert (name in INTEGERS) == (definition.fields.get("SYNTAX") == INTEGER_SYNTAX), name
