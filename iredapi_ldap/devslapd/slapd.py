"""A throwaway slapd laid out as an iRedMail server, for tests, `iredapi-ldap dev` and benchmarks.

Built on python-ldap's `slapdtest`. Two things differ from its defaults and matter:
- the database entry (with iRedMail's indexes) is loaded *after* the schemas, because slapd
  refuses an index on an attribute it does not know yet;
- slapd gets iRedMail's size limit and map size (slapdtest's 10 MiB map fills after a few
  hundred indexed users) and its access rules: `cn=vmailadmin` writes, `cn=vmail` reads,
  anonymous may only authenticate. The API binds as `cn=vmailadmin`, never as the rootdn.

With `sssvlv` set, slapd also loads the `sssvlv` overlay (server-side sorting and virtual
list views), which Debian's slapd ships and iRedMail does not load: for the tests and
benchmarks of sorted listing pages.
"""

import os
import secrets
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from passlib.hash import ldap_salted_sha1, ldap_salted_sha512
from slapdtest import SlapdObject

# Package data beside this module (setup.cfg's package_data puts them in the wheel); real
# files, not importlib.resources traversables, because slapadd is given their paths.
PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = PACKAGE_DIR / "schema"
FIXTURES_DIR = PACKAGE_DIR / "fixtures"
OPENLDAP_SCHEMAS = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif")

# iRedMail's slapd.conf indexes (facts file, end of section 2).
IREDMAIL_INDEXES = (
    "objectClass,entryCSN,entryUUID eq",
    "uidNumber,gidNumber,uid,memberUid,loginShell eq,pres",
    "homeDirectory,mailMessageStore eq,pres",
    "ou,cn,mail,surname,givenname,telephoneNumber,displayName eq,pres,sub",
    "nisMapName,nisMapEntry eq,pres,sub",
    "shadowLastChange eq,pres",
    "member,uniqueMember eq,pres",
    "domainName,mtaTransport,accountStatus,enabledService,disabledService eq,pres,sub",
    "domainAliasName eq,pres,sub",
    "domainMaxUserNumber eq,pres",
    "domainAdmin,domainGlobalAdmin,domainBackupMX eq,pres,sub",
    "domainSenderBccAddress,domainRecipientBccAddress eq,pres,sub",
    "accessPolicy,hasMember,listAllowedUser,mailingListID eq,pres,sub",
    "mailForwardingAddress,shadowAddress eq,pres,sub",
    "backupMailAddress,memberOfGroup eq,pres,sub",
    "userRecipientBccAddress,userSenderBccAddress eq,pres,sub",
    "mobile,departmentNumber eq,pres,sub",
    "employeeNumber eq,pres,sub",
)

GLOBAL_CONFIG = r"""dn: cn=config
objectClass: olcGlobal
cn: config
olcServerID: %(serverid)s
olcLogLevel: %(loglevel)s
olcAuthzRegexp: {0}"gidnumber=%(root_gid)s\+uidnumber=%(root_uid)s,cn=peercred,cn=external,cn=auth" "%(rootdn)s"

dn: cn=module,cn=config
objectClass: olcModuleList
cn: module
olcModulePath: %(module_path)s
olcModuleLoad: back_mdb
olcModuleLoad: pw-sha2
"""

DATABASE_CONFIG = r"""dn: olcDatabase=mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: mdb
olcSuffix: %(suffix)s
olcRootDN: %(rootdn)s
olcRootPW: %(rootpw)s
olcDbDirectory: %(directory)s
olcDbMaxSize: 2147483648
olcDbNoSync: %(nosync)s
olcSizeLimit: unlimited
olcLimits: dn.exact="cn=vmailadmin,%(suffix)s" size=unlimited time=unlimited
%(indexes)s
olcAccess: {0}to dn.base=""
  by * read
olcAccess: {1}to dn.base="cn=Subschema"
  by * read
olcAccess: {2}to attrs=userPassword,shadowLastChange
  by anonymous auth
  by self write
  by dn.exact="cn=vmailadmin,%(suffix)s" write
  by dn.exact="cn=vmail,%(suffix)s" read
  by * none
olcAccess: {3}to dn.subtree="%(suffix)s"
  by dn.exact="cn=vmailadmin,%(suffix)s" write
  by dn.exact="cn=vmail,%(suffix)s" read
  by self read
  by * none
"""

SSSVLV_CONFIG = """dn: olcOverlay=sssvlv,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSssVlvConfig
olcOverlay: sssvlv
"""


@dataclass(frozen=True)
class SeedAccounts:
    """Credentials of the accounts that `fixtures/base.ldif` creates."""

    suffix: str
    vmail_password: str
    vmailadmin_password: str
    admin_mail: str
    admin_password: str

    @property
    def vmail_dn(self):
        return f"cn=vmail,{self.suffix}"

    @property
    def vmailadmin_dn(self):
        return f"cn=vmailadmin,{self.suffix}"

    @property
    def domains_dn(self):
        return f"o=domains,{self.suffix}"

    @property
    def admins_dn(self):
        return f"o=domainAdmins,{self.suffix}"


def random_password():
    """A password that satisfies iRedMail's default policy (letters, digits, a special)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14)) + "A9@"


class IRedMailSlapd(SlapdObject):
    """slapd with the iRedMail schema, indexes, limits and ACLs, on a free local port."""

    suffix = "dc=example,dc=com"
    root_cn = "Manager"
    slapd_loglevel = "none"
    module_path = "/usr/lib/ldap"
    nosync = True  # throwaway data: durability buys nothing and costs every write
    sssvlv = False  # load the sssvlv overlay (not loaded by iRedMail)
    TMPDIR = tempfile.gettempdir()  # slapdtest would use the current directory

    def __init__(self):
        self.root_pw = secrets.token_urlsafe(16)
        super().__init__()

    def start(self, preload=None):
        """Start slapd; `preload` (LDIF text) is loaded with `slapadd -q` first, which is
        far faster than adding entries over LDAP (for benchmarks of large directories)."""
        self._owner_pid = os.getpid()
        self._preload = preload
        super().start()

    def _test_config(self):
        if getattr(self, "_preload", None):
            path = Path(self.testrundir) / "preload.ldif"
            path.write_text(self._preload)
            self.slapadd(None, ["-q", "-b", self.suffix, "-l", str(path)])
            path.unlink()
        super()._test_config()

    def stop(self):
        # Forked children (gunicorn workers) inherit slapdtest's atexit hook and our callers'
        # finally blocks; only the process that started slapd may stop it.
        if os.getpid() == getattr(self, "_owner_pid", os.getpid()):
            super().stop()

    def gen_config(self):
        modules = "olcModuleLoad: sssvlv\n" if self.sssvlv else ""
        return GLOBAL_CONFIG % self._config_values() + modules

    def _config_values(self):
        return {
            "serverid": hex(self.server_id),
            "loglevel": self.slapd_loglevel,
            "rootdn": self.root_dn,
            "rootpw": self.root_pw,
            "root_uid": os.getuid(),
            "root_gid": os.getgid(),
            "module_path": self.module_path,
            "suffix": self.suffix,
            "directory": self._db_directory,
            "nosync": "TRUE" if self.nosync else "FALSE",
            "indexes": "\n".join(f"olcDbIndex: {line}" for line in IREDMAIL_INDEXES),
        }

    def _write_config(self):
        self.slapadd(self.gen_config(), ["-n0"])
        schemas = [str(Path(self.SCHEMADIR) / name) for name in OPENLDAP_SCHEMAS]
        schemas += [str(path) for path in sorted(SCHEMA_DIR.glob("*.ldif"))]
        for path in schemas:
            self.slapadd(None, ["-n0", "-l", path])
        self.slapadd(DATABASE_CONFIG % self._config_values(), ["-n0"])
        if self.sssvlv:
            self.slapadd(SSSVLV_CONFIG, ["-n0"])

    def seed(self, first_domain="example.com", admin_local="postmaster"):
        """Load `fixtures/base.ldif`: the tree the iRedMail installer creates.

        Returns the `SeedAccounts` with the generated passwords.
        """
        ldif, accounts = self.base_ldif(first_domain, admin_local)
        self.ldapadd(ldif)
        return accounts

    def base_ldif(self, first_domain="example.com", admin_local="postmaster"):
        """(`fixtures/base.ldif` filled in, its SeedAccounts with generated passwords)."""
        accounts = SeedAccounts(
            suffix=self.suffix,
            vmail_password=random_password(),
            vmailadmin_password=random_password(),
            admin_mail=f"{admin_local}@{first_domain}",
            admin_password=random_password(),
        )
        template = string.Template((FIXTURES_DIR / "base.ldif").read_text())
        return template.substitute(
            SUFFIX=self.suffix,
            DOMAIN=first_domain,
            ADMIN_LOCAL=admin_local,
            VMAIL_PASSWORD=ldap_salted_sha1.hash(accounts.vmail_password),
            VMAILADMIN_PASSWORD=ldap_salted_sha1.hash(accounts.vmailadmin_password),
            ADMIN_PASSWORD=ldap_salted_sha512.hash(accounts.admin_password),
        ), accounts
