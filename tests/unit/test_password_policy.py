import pytest

from iredapi_ldap.config import load_settings
from iredapi_ldap.errors import BadRequest
from iredapi_ldap.model.password_policy import check_new_password

SETTINGS = load_settings(environ={"IREDAPI_LDAP_BIND_PASSWORD": "x"})


@pytest.mark.parametrize("password, code", [
    ("", "PW_EMPTY"), ("Sh0rt!", "PW_SHORTER_THAN_MIN_LENGTH"),
    ("NoDigits!!", "PW_NO_DIGIT_NUMBER"), ("nouppercase1!", "PW_NO_UPPERCASE"),
    ("NoSpecial123", "PW_NO_SPECIAL_CHAR"), ("12345678!", "PW_NO_LETTER,PW_NO_UPPERCASE"),
    ("Ünicode-123", "PW_NON_ASCII"),
])
def test_each_rule(password, code):
    with pytest.raises(BadRequest) as caught:
        check_new_password(password, SETTINGS)
    assert caught.value.code == code


def test_lengths_global_and_domain():
    check_new_password("Good-pass1", SETTINGS)
    with pytest.raises(BadRequest, match="PW_GREATER_THAN_MAX_LENGTH"):
        check_new_password("Good-pass1", SETTINGS.replace(max_passwd_length=9))
    with pytest.raises(BadRequest, match="PW_SHORTER_THAN_MIN_LENGTH"):
        check_new_password("Good-pass1", SETTINGS, min_length=12)
    check_new_password("Go-pass1", SETTINGS.replace(min_passwd_length=4))


@pytest.mark.parametrize("configured", [0, 1000])
def test_no_password_longer_than_the_built_in_maximum(configured):
    settings = SETTINGS.replace(max_passwd_length=configured)
    check_new_password("Good-pass1" + "x" * 246, settings)  # 256 characters
    with pytest.raises(BadRequest, match="PW_GREATER_THAN_MAX_LENGTH"):
        check_new_password("Good-pass1" + "x" * 247, settings)


def test_rules_can_be_switched_off():
    relaxed = SETTINGS.replace(password_has_uppercase=False, password_has_special_char=False,
                               password_has_number=False)
    check_new_password("plainpassword", relaxed)


def test_no_password_longer_than_bcrypt_reads_when_it_is_the_scheme():
    settings = SETTINGS.replace(default_password_scheme="BCRYPT")
    check_new_password("Good-pass1" + "x" * 62, settings)  # 72 characters
    with pytest.raises(BadRequest, match="PW_GREATER_THAN_MAX_LENGTH"):
        check_new_password("Good-pass1" + "x" * 63, settings)
