"""Request gates that run before any resource: API switch, client allow-list, session."""

import ipaddress

from ..errors import PermissionDenied
from ..sessions import COOKIE_NAME


class ApiGate:
    """ENABLE_RESTFUL_API, then RESTRICT_API_ACCESS with RESTFUL_API_CLIENTS."""

    def __init__(self, settings):
        self._enabled = settings.enable_restful_api
        self._restricted = settings.restrict_api_access
        self._clients = [ipaddress.ip_network(client, strict=False)
                         for client in settings.restful_api_clients]

    def process_request(self, req, resp):
        if not self._enabled:
            raise PermissionDenied("API_DISABLED", detail="the RESTful API is disabled")
        if self._restricted and not self._allowed(req.remote_addr):
            raise PermissionDenied("NOT_AUTHORIZED", detail="this client may not use the API")

    def _allowed(self, remote_addr):
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return False
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped  # ::ffff:a.b.c.d from a dual-stack socket
        return any(address in network for network in self._clients
                   if network.version == address.version)


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


