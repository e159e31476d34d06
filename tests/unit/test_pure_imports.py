"""The pure parts (the model, the layout, the directory's value types and escaping) import
no LDAP client, no SQL toolkit and no web framework (DESIGN.md section 4)."""

import pkgutil
import random
import subprocess
import sys

import ldap.dn
import ldap.filter

import iredapi_ldap.model
from iredapi_ldap.directory import escaping

FORBIDDEN = ("ldap", "ldap3", "sqlalchemy", "falcon")


def _pure_modules():
    model = [f"iredapi_ldap.model.{info.name}"
             for info in pkgutil.iter_modules(iredapi_ldap.model.__path__)]
    return ["iredapi_ldap.model", *model, "iredapi_ldap.layout",
            "iredapi_ldap.directory.base", "iredapi_ldap.directory.escaping",
            "iredapi_ldap.directory.windows"]


def test_every_model_module_is_listed():
    assert "iredapi_ldap.model.draft" in _pure_modules()


def test_pure_modules_load_no_client_library():
    code = ("import importlib, json, sys\n"
            f"for name in {_pure_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout


def test_directory_package_loads_adapters_only_when_asked():
    code = ("import sys\n"
            "from iredapi_ldap.directory import Change, Op, Scope, escape_dn_value\n"
            "assert 'ldap' not in sys.modules and 'ldap3' not in sys.modules\n"
            "from iredapi_ldap.directory import ADAPTERS, from_settings, Ldap3Directory\n"
            "assert sorted(ADAPTERS) == ['ldap3', 'python-ldap']\n"
            "assert ADAPTERS['ldap3'] is Ldap3Directory\n"
            "assert 'ldap' in sys.modules and 'ldap3' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


SAMPLES = ["", " ", "  ", "#", "# x", " x ", "a,b", "a+b=c", 'q"<>;', "back\\slash",
           "nul\x00l", "*()", "ü é", "x #", "\\ ", "#\\", "=", "é,é", "\\2a"]


def test_escaping_matches_python_ldap():
    rng = random.Random(15)
    alphabet = "ab #,+\"\\<>;=*()\x00é "
    samples = SAMPLES + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
                         for _ in range(2000)]
    for value in samples:
        assert escaping.escape_dn_value(value) == ldap.dn.escape_dn_chars(value), repr(value)
        assert escaping.escape_filter_value(value) == \
            ldap.filter.escape_filter_chars(value), repr(value)
    assert escaping.escape_dn_value(42) == "42"
    assert escaping.escape_filter_value(42) == "42"
