"""What a client sees when something inside breaks: a stable code, never internals."""

from falcon import testing

from iredapi_ldap import errors
from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings

from ..helpers import login, reply


class BrokenDirectory:
    def __init__(self, exc):
        self.exc = exc

    def get(self, dn, attributes=None):
        raise self.exc


def client_over(directory, tmp_path):
    settings = load_settings(environ={}, enable_restful_api=True, ldap_bind_password="x",
                             data_dir=str(tmp_path))
    return testing.TestClient(create_app(settings, directory))


def test_unexpected_exception_is_a_plain_500(tmp_path, caplog):
    client = client_over(BrokenDirectory(RuntimeError("secret internals at 0xdeadbeef")), tmp_path)
    result = login(client, "admin@example.com", "Sup3r-Secret!")
    assert reply(result) == (500, False, "INTERNAL_ERROR")
    assert "secret internals" not in result.text and "Traceback" not in result.text
    assert "secret internals" in caplog.text  # ...but the operator's log has it


def test_directory_unavailable_is_503(tmp_path):
    client = client_over(BrokenDirectory(errors.DirectoryUnavailable()), tmp_path)
    result = login(client, "admin@example.com", "Sup3r-Secret!")
    assert reply(result) == (503, False, "DIRECTORY_UNAVAILABLE")
