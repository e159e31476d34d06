"""Request gates that run before any resource: the path prefix, the client's address, API
switch, client allow-list, session."""

import ipaddress

from ..accesslog import CLIENT_ADDRESS_KEY
from ..errors import Code, PermissionDenied
from ..sessions import COOKIE_NAME


def _networks(items):
    return [ipaddress.ip_network(item, strict=False) for item in items]


# IPv6 addresses that stand for an IPv4 client: NAT64's well-known prefix (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _address(text):
    """An IP address, or None. An IPv6 address that stands for an IPv4 client (mapped,
    NAT64, 6to4, Teredo) is that IPv4 address, and a scope (`%eth0`) is dropped: the
    same client is one address to the allow-list and the login limits."""
    try:
        address = ipaddress.ip_address((text or "").strip().split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 4:
        return address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    teredo = address.teredo
    return address.ipv4_mapped or address.sixtofour or (teredo and teredo[1]) or address


def _within(address, networks):
    return address is not None and any(address in network for network in networks
                                       if network.version == address.version)


IREDADMIN_PREFIX = "/iredadmin"


class IRedAdminPrefix:
    """Every `/api/...` URL also answers as `/iredadmin/api/...`, where iRedAdmin-Pro serves
    its API and its documented clients call it: the prefix is dropped before routing, so
    both paths reach the same resource (and the same gates). Anything else under
    `/iredadmin/` stays unknown (`NOT_FOUND`)."""

    def process_request(self, req, resp):
        path = req.path
        if path.startswith(IREDADMIN_PREFIX + "/api/") or path == IREDADMIN_PREFIX + "/api":
            req.path = path[len(IREDADMIN_PREFIX):]


class ClientAddress:
    """Who the client is: `req.context.client_ip` and whether it came over HTTPS
    (`req.context.secure`).

    Only when the TCP peer is one of TRUSTED_PROXIES is `X-Forwarded-For` believed: the
    client is its right-most address that is not itself a trusted proxy (a client can put
    anything in front, so only what trusted proxies appended counts), and
    `X-Forwarded-Proto` says the scheme. Otherwise the client is the peer.
    """

    def __init__(self, settings):
        self._proxies = _networks(settings.trusted_proxies)

    def process_request(self, req, resp):
        peer = _address(req.remote_addr)
        client, secure = peer, req.env.get("wsgi.url_scheme") == "https"
        if _within(peer, self._proxies):
            hops = [hop for header in req.get_header("X-Forwarded-For", default="").split(",")
                    for hop in [header.strip()] if hop]
            for hop in reversed(hops):
                client = _address(hop)
                if not _within(client, self._proxies):
                    break  # None when it is not an address: never allowed, never a proxy
            proto = (req.get_header("X-Forwarded-Proto") or "").split(",")[-1].strip()
            secure = proto.lower() == "https" if proto else secure
        req.context.client_ip = str(client) if client is not None else "unknown"
        req.context.secure = secure
        req.env[CLIENT_ADDRESS_KEY] = req.context.client_ip


class ApiGate:
    """ENABLE_RESTFUL_API, then RESTRICT_API_ACCESS with RESTFUL_API_CLIENTS."""

    def __init__(self, settings):
        self._enabled = settings.enable_restful_api
        self._restricted = settings.restrict_api_access
        self._clients = _networks(settings.restful_api_clients)

    def process_request(self, req, resp):
        if not self._enabled:
            raise PermissionDenied(Code.API_DISABLED, detail="the RESTful API is disabled")
        if self._restricted and not _within(_address(req.context.client_ip), self._clients):
            raise PermissionDenied(Code.NOT_AUTHORIZED, detail="this client may not use the API")


class SessionCheck:
    """Sets `req.context.caller` from the session cookie for resources that need a login.

    A resource opts out with the class attribute `auth_required = False`.
    """

    def __init__(self, auth):
        self._auth = auth

    def process_resource(self, req, resp, resource, params):
        if resource is None or not getattr(resource, "auth_required", True):
            return
        req.context.caller = self._auth.authenticate(req.cookies.get(COOKIE_NAME))


