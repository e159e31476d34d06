"""Spam policy, white/blacklist, throttling and greylisting endpoints.

Targets come from the URL: `global`, a domain, or a user's address (PolicyService resolves
them and checks the caller's scope).
"""

from ..errors import NotFound
from ..model.fields import Verbatim
from ..model.sets import SetParam
from ..model.spampolicy import SPAM_POLICY
from ..model.wblist import ADDRESSES, DIRECTIONS, LISTS
from ..services.policies import THROTTLE_KINDS, THROTTLE_LIMITS
from .envelope import ok
from .params import read_params, require_one_of


class SpamPolicy:
    """/api/spampolicy/global, /api/spampolicy/domain/{name}, /api/spampolicy/user/{name}."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp, name="global"):
        read_params(req).only()
        ok(resp, self._policies.get_spam_policy(req.context.caller, name))

    def on_put(self, req, resp, name="global"):
        params = read_params(req).only(*SPAM_POLICY)
        self._policies.set_spam_policy(req.context.caller, name, params)
        ok(resp)

    def on_delete(self, req, resp, name="global"):
        read_params(req).only()
        self._policies.delete_spam_policy(req.context.caller, name)
        ok(resp)


class Throttle:
    """/api/throttle/{target}/{kind}: target is global, a domain or an address."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp, target, kind):
        read_params(req).only()
        ok(resp, self._policies.get_throttle(req.context.caller, target, _kind(kind)))

    def on_post(self, req, resp, target, kind):
        params = read_params(req).only("period", *THROTTLE_LIMITS)
        self._policies.set_throttle(req.context.caller, target, _kind(kind), params)
        ok(resp)

    def on_delete(self, req, resp, target, kind):
        read_params(req).only()
        self._policies.delete_throttle(req.context.caller, target, _kind(kind))
        ok(resp)


def _kind(kind):
    if kind not in THROTTLE_KINDS:
        raise NotFound(detail="the last part of a throttle URL is inbound or outbound")
    return kind


class Wblist:
    """/api/wblist/{direction}/{listing}/{target}: direction inbound or outbound, listing
    whitelist or blacklist, target global, a domain or an address. GET lists the addresses,
    POST adds `addresses`, PUT removes `addresses`, DELETE removes them all."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp, direction, listing, target):
        read_params(req).only()
        _wblist(direction, listing)
        ok(resp, self._policies.get_wblist(req.context.caller, target, direction, listing))

    def on_post(self, req, resp, direction, listing, target):
        addresses = _addresses(req)
        _wblist(direction, listing)
        ok(resp, self._policies.add_to_wblist(req.context.caller, target, direction, listing,
                                              addresses))

    def on_put(self, req, resp, direction, listing, target):
        addresses = _addresses(req)
        _wblist(direction, listing)
        ok(resp, self._policies.remove_from_wblist(req.context.caller, target, direction,
                                                   listing, addresses))

    def on_delete(self, req, resp, direction, listing, target):
        read_params(req).only()
        _wblist(direction, listing)
        self._policies.remove_from_wblist(req.context.caller, target, direction, listing, None)
        ok(resp)


def _wblist(direction, listing):
    if direction not in DIRECTIONS or listing not in LISTS:
        raise NotFound(detail="a white/blacklist URL is /api/wblist/{inbound|outbound}/"
                              "{whitelist|blacklist}/{global|<domain>|<mail>}")


def _addresses(req):
    params = read_params(req).only(ADDRESSES)
    require_one_of(params, ADDRESSES)
    return params[ADDRESSES]


class GreylistingAll:
    """GET /api/greylisting/all."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp):
        read_params(req).only()
        ok(resp, self._policies.greylisting_settings(req.context.caller))


class Greylisting:
    """/api/greylisting/{target}: explicit enable/disable, or (DELETE) inherit again."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp, target):
        read_params(req).only()
        ok(resp, self._policies.get_greylisting(req.context.caller, target))

    def on_post(self, req, resp, target):
        params = read_params(req).only("status")
        require_one_of(params, "status")
        self._policies.set_greylisting(req.context.caller, target, params["status"])
        ok(resp)

    def on_delete(self, req, resp, target):
        read_params(req).only()
        self._policies.delete_greylisting(req.context.caller, target)
        ok(resp)


class GreylistingWhitelists:
    """/api/greylisting/{target}/whitelists: senders, or addSenders/removeSenders."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp, target):
        read_params(req).only()
        ok(resp, self._policies.greylisting_whitelists(req.context.caller, target))

    def on_post(self, req, resp, target):
        replace, add, remove = _set_change(read_params(req), SENDERS)
        ok(resp, self._policies.update_greylisting_whitelists(
            req.context.caller, target, replace, add, remove))


class WhitelistSpfDomains:
    """/api/greylisting/whitelist_spf_domains: domains, or addDomains/removeDomains."""

    def __init__(self, policies):
        self._policies = policies

    def on_get(self, req, resp):
        read_params(req).only()
        ok(resp, self._policies.whitelist_spf_domains(req.context.caller))

    def on_post(self, req, resp):
        replace, add, remove = _set_change(read_params(req), SPF_DOMAINS)
        ok(resp, self._policies.update_whitelist_spf_domains(
            req.context.caller, replace, add, remove))


# Checked by the service (an IP, a network, an address, @domain or @.domain; a domain).
SENDERS = SetParam("senders", "addSenders", "removeSenders", None, item=Verbatim())
SPF_DOMAINS = SetParam("domains", "addDomains", "removeDomains", None, item=Verbatim())


def _set_change(params, the_set):
    """(replacement or None, to add, to remove) of a set parameter."""
    params.only(*the_set.params())
    change = the_set.change(params)
    if change is None:
        require_one_of(params, *the_set.params())
    return (list(change.whole) if change.whole is not None else None, list(change.add),
            list(change.remove))
