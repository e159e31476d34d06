"""The Falcon application: routes, middleware and error handlers, wired in one place."""

import time
from pathlib import Path

import falcon

from . import directory as directory_module
from .config import ensure_secret_key, load_settings
from .cursors import CursorCodec
from .http.admins import Admin, VerifyAdminPassword
from .http.apidocs import DocsAsset, DocsPage, OpenApiDocument
from .http.audit import Audit, RequestLog
from .http.auth import Login, Logout
from .http.domains import Domain, DomainAdmins, Domains
from .http.envelope import ErrorRenderer
from .http.export import LdifExport
from .http.groups import LIST_DELETE_FLAGS, AliasChangeEmail, Group, Groups
from .http.health import Health
from .http.metrics import Metrics
from .http.middleware import ApiGate, ClientAddress, IRedAdminPrefix, SessionCheck
from .http.policies import (
    Greylisting,
    GreylistingAll,
    GreylistingWhitelists,
    SpamPolicy,
    Throttle,
    Wblist,
    WhitelistSpfDomains,
)
from .http.users import ChangeEmail, User, Users, VerifyUserPassword
from .layout import Layout
from .logformat import configure_logging
from .policy.audit import AuditLog
from .policy.journal import Journal
from .policy.logins import LoginRecords
from .policy.store import SqlPolicyStore, prepare_embedded_databases
from .services import counters
from .services.admins import AdminService
from .services.auth import AuthService
from .services.completions import Completions
from .services.domain_admins import DomainAdmins as DomainAdminService
from .services.domain_locks import DomainLocks
from .services.domains import DomainService
from .services.exports import ExportService
from .services.groups import Aliases, MailingLists
from .services.health import HealthCheck, backends
from .services.limits import AdminLimits
from .services.policies import PolicyService
from .services.repository import Repository
from .services.user_bulk import UsersOfDomain
from .services.users import UserService
from .sessions import SessionCodec, key_id
from .throttle import LoginThrottle


def create_app(settings, directory=None, policy=None, clock=time.time):
    """Build the WSGI app.

    Args:
        settings: validated `config.Settings`.
        directory: a `directory.Directory`; by default the ldap3 adapter of `settings`.
        policy: the policy store (spam policy, throttling, greylisting, deleted mailboxes,
            and, in iRedAdmin's database, failed logins, ended sessions and unfinished
            writes); by default the SQL store of `settings`, creating the embedded SQLite
            tables.
        clock: time source for session expiry and the session-check cache (tests pass a
            fake one).
    """
    directory = directory or directory_module.from_settings(settings)
    if policy is None:
        prepare_embedded_databases(settings)
        policy = SqlPolicyStore.from_settings(settings)
    repo = Repository(directory, Layout.from_settings(settings),
                      DomainLocks(Path(settings.data_dir) / "locks"))
    secret_key = ensure_secret_key(settings)
    sessions = SessionCodec(secret_key, settings.session_timeout, clock=clock)
    records = LoginRecords(policy.databases)
    throttle = LoginThrottle(records, settings.login_max_failures,
                             settings.login_failure_window)
    auth = AuthService(repo, sessions, throttle, records, clock=clock)

    # The prefix goes first: every other middleware sees the /api/... path.
    app = falcon.App(middleware=[IRedAdminPrefix(), RequestLog(settings.log_format == "json"),
                                 ClientAddress(settings), Metrics(settings), ApiGate(settings),
                                 SessionCheck(auth), Audit(AuditLog(policy.databases), clock)])
    app.req_options.strip_url_path_trailing_slash = True
    ErrorRenderer(settings.api_always_http_200).install(app)
    app.add_route("/api/login", Login(auth, settings.session_timeout))
    app.add_route("/api/logout", Logout(auth))
    timeout = settings.health_timeout
    health = HealthCheck(lambda: backends(directory, policy.databases, timeout,
                                          settings.ldap_basedn), timeout)
    app.add_route("/api/health", Health(health, auth, lambda: directory.leader,
                                        key_id(secret_key), lambda: directory.writes_held()))
    if hasattr(directory, "repair_after_failover"):  # the adapters; not the tests' fakes
        directory.repair_after_failover(lambda: counters.repair_after_failover(repo))
    app.add_route("/api/openapi.json", OpenApiDocument())
    app.add_route("/api/docs", DocsPage())
    app.add_route("/api/docs/{asset}", DocsAsset())
    completions = Completions(repo, policy, Journal(policy.databases),
                              landing=settings.ldap_timeout)
    _add_account_routes(app, repo, policy, settings, completions, CursorCodec(secret_key))
    _add_policy_routes(app, PolicyService(repo, policy, completions))
    return app


def _add_account_routes(app, repo, policy, settings, completions, cursors):
    limits = AdminLimits(repo)
    domains = DomainService(repo, policy, settings, limits, completions)
    domain = Domain(domains)
    app.add_route("/api/domains", Domains(domains, cursors))
    app.add_route("/api/domain/{domain}", domain)
    app.add_route("/api/domain/{domain}/keep_mailbox_days/{days}", domain, suffix="keeping")
    app.add_route("/api/domain/admins/{domain}",
                  DomainAdmins(DomainAdminService(repo)))
    admins = AdminService(repo, settings)
    app.add_route("/api/admin/{mail}", Admin(admins))
    app.add_route("/api/verify_password/admin/{mail}", VerifyAdminPassword(admins))
    users = UserService(repo, policy, settings, limits, completions)
    user = User(users)
    app.add_route("/api/user/{mail}", user)
    app.add_route("/api/user/{mail}/keep_mailbox_days/{days}", user, suffix="keeping")
    app.add_route("/api/users/{domain}", Users(users, UsersOfDomain(repo, settings), cursors))
    app.add_route("/api/user/{mail}/change_email/{new_mail}", ChangeEmail(users))
    app.add_route("/api/verify_password/user/{mail}", VerifyUserPassword(users))
    aliases = Aliases(repo, limits, completions)
    app.add_route("/api/alias/{mail}", Group(aliases))
    app.add_route("/api/aliases/{domain}", Groups(aliases, ("email_only", "disabled_only"),
                                                  cursors, "aliases"))
    app.add_route("/api/alias/{mail}/change_email/{new_mail}", AliasChangeEmail(aliases))
    lists = MailingLists(repo, limits, completions)
    app.add_route("/api/maillist/{mail}", Group(lists, LIST_DELETE_FLAGS))
    app.add_route("/api/maillists/{domain}", Groups(lists, ("email_only",), cursors,
                                                    "maillists"))
    app.add_route("/api/ldif/{kind}/{name}", LdifExport(ExportService(repo)))


def _add_policy_routes(app, policies):
    spam = SpamPolicy(policies)
    app.add_route("/api/spampolicy/global", spam)
    app.add_route("/api/spampolicy/domain/{name}", spam)
    app.add_route("/api/spampolicy/user/{name}", spam)
    app.add_route("/api/wblist/{direction}/{listing}/{target}", Wblist(policies))
    app.add_route("/api/throttle/{target}/{kind}", Throttle(policies))
    app.add_route("/api/greylisting/all", GreylistingAll(policies))
    app.add_route("/api/greylisting/whitelist_spf_domains", WhitelistSpfDomains(policies))
    app.add_route("/api/greylisting/{target}", Greylisting(policies))
    app.add_route("/api/greylisting/{target}/whitelists", GreylistingWhitelists(policies))


def get_app():
    """The gunicorn target: settings from IREDAPI_CONFIG and the environment."""
    settings = load_settings()
    configure_logging(settings.log_format)
    return create_app(settings)
