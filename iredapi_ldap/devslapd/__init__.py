"""The throwaway slapd of `iredapi-ldap dev`, `make serve`, the tests and the benchmarks, with
what it loads: `schema/` (iRedMail's and amavisd's schemas as cn=config LDIF) and
`fixtures/base.ldif` (the tree the iRedMail installer lays out), as package data.
"""

from .slapd import IRedMailSlapd, SeedAccounts, random_password

__all__ = ["IRedMailSlapd", "SeedAccounts", "random_password"]
