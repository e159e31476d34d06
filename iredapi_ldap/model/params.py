"""A kind's parameters as rows, and the engine that applies a request to an entry draft. Pure.

A `Param` row says everything about one API parameter: its names (the API name and the
legacy names older Pro clients send), where it is stored (an LDAP attribute, or an
`accountSetting` key) and the codec that checks, encodes and decodes it, when it may be
given (create, update), who may give it, and the rule it triggers when it is more than one
attribute. A `Kind` (model/kinds.py) holds the rows of one kind of account; services ask it
which parameters an operation accepts (`Kind.request`) and apply them (`Kind.apply`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from ..errors import BadRequest, Code, PermissionDenied
from .draft import EntryDraft
from .fields import Codec


class Who(enum.Enum):
    """Who may give a parameter."""

    ADMIN = "any admin of the account"
    GLOBAL = "global admins only"
    # Parameters that act on every account of a domain (its status, BCC, routing): a normal
    # admin may give them only while the domain holds no account beyond its privileges.
    OVER_EVERY_ACCOUNT = "an admin whose privileges cover every account of the domain"


class Effect(enum.Enum):
    """What a service does after the write when a parameter is given."""

    ACCOUNTS_STATUS = "the domain's accounts follow its status"
    ALIAS_DOMAIN_ADDRESSES = "the accounts gain or lose their alias-domain addresses"
    CATCHALL = "the domain's catch-all entry is written"
    QUOTA_COUNTED = "the domain's used quota moves by the change"
    MEMBERS = "the members' entries are written"


class RuleContext(Protocol):
    """What every rule may ask of the request (kinds add what their rules need)."""

    @property
    def is_global_admin(self) -> bool: ...


class Rule(Protocol):
    """A parameter (or family of parameters) that changes more than one attribute or needs
    to ask the context (the directory, the caller) something."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: Any) -> None: ...


@dataclass(frozen=True)
class Param:
    """One API parameter, whole: names, storage, codec, when, who, and what it triggers."""

    name: str
    attribute: str | None = None     # LDAP attribute ("accountSetting" with `setting`)
    codec: Codec | None = None       # checks, encodes and decodes the value
    setting: str | None = None       # accountSetting key, when stored there
    legacy: tuple[str, ...] = ()     # older names of the same parameter
    on_create: bool = True           # accepted by POST
    on_update: bool = True           # accepted by PUT
    who: Who = Who.ADMIN
    rule: Rule | None = None         # applied after the stored value (or instead of it)
    effect: Effect | None = None     # done by the service after the write

    def encode(self, text: str) -> list[str]:
        """The stored values of the parameter's text (empty: remove)."""
        if self.codec is None:
            raise TypeError(f"{self.name} has no codec")
        return self.codec.encode(self.name, text)

    def decode(self, draft: EntryDraft) -> str:
        """The parameter's text of what `draft` stores (the inverse of `encode`)."""
        if self.codec is None:
            raise TypeError(f"{self.name} has no codec")
        if self.setting:
            value = draft.settings().get(self.setting)
            return self.codec.decode([] if value is None else [str(value)])
        # A row stored outside accountSetting names its attribute (the cast only says so).
        return self.codec.decode(draft.get(cast(str, self.attribute)))

    def store(self, draft: EntryDraft, text: str) -> None:
        """Write the parameter's text into `draft`."""
        values = self.encode(text)
        if self.setting:
            draft.set_setting(self.setting, values[0] if values else None)
        else:
            draft.set(cast(str, self.attribute), values)


def params_of(rule: Rule, *names: str, **row: Any) -> tuple[Param, ...]:
    """Rows for a family of parameters that one rule applies together."""
    return tuple(Param(name, rule=rule, **row) for name in names)


@dataclass(frozen=True)
class Kind:
    """One kind of account: where its entries live, what counts them, and its parameters."""

    name: str                          # user, alias, list, domain, admin, externals, catchall
    label: str                         # how messages name one ("mailing list")
    object_classes: tuple[str, ...]    # of a new entry
    rdn: str                           # RDN attribute
    # The object class that marks an entry of the kind (the first of `object_classes` when
    # not given), and a filter that finds every entry of it and only those (by default, the
    # marker).
    marker: str = ""
    search_filter: str = ""
    api_name: str = ""                 # in URLs, when not `name` ("maillist")
    container: str | None = None       # ou below the domain entry; None: not in a domain
    counter: str | None = None         # usage counter on the domain entry
    domain_limit: str | None = None    # the domain's accountSetting limit
    admin_limit: str | None = None     # a standalone admin's accountSetting limit
    plural: str = ""                   # how limit messages name several
    params: tuple[Param, ...] = ()
    # Rules applied to every create and update, after the parameters (invariants).
    always: tuple[Rule, ...] = ()
    required_on_create: tuple[tuple[str, ...], ...] = ()   # each: one of these must be given
    _index: dict[str, Param] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.api_name:
            object.__setattr__(self, "api_name", self.name)
        if not self.marker:
            object.__setattr__(self, "marker", self.object_classes[0])
        if not self.search_filter:
            object.__setattr__(self, "search_filter", f"(objectClass={self.marker})")
        for row in self.params:
            if row.name in self._index:
                raise ValueError(f"{self.name}: parameter {row.name} twice")
            self._index[row.name] = row

    def param(self, name: str) -> Param:
        return self._index[name]

    def names(self, creating: bool) -> frozenset[str]:
        """The parameters a create (or an update) accepts."""
        return frozenset(row.name for row in self.params
                         if (row.on_create if creating else row.on_update))

    def legacy_names(self) -> dict[str, str]:
        """{legacy name: API name} of every row."""
        return {old: row.name for row in self.params for old in row.legacy}

    def given(self, params: Iterable[str], who: Who | None = None,
              effect: Effect | None = None) -> list[Param]:
        """The rows of `params` (in table order); only those of `who`, or with `effect`,
        when asked."""
        wanted = set(params)
        return [row for row in self.params if row.name in wanted
                and (who is None or row.who is who)
                and (effect is None or row.effect is effect)]

    def request(self, params: Mapping[str, str], creating: bool,
                accepted: Iterable[str] | None = None) -> dict[str, str]:
        """The update preamble, written once: legacy names renamed (giving both is a
        conflict), unknown parameters refused (UNKNOWN_PARAMETER), and an update without
        any, or a create without a required one, refused (MISSING_PARAMETER)."""
        out = dict(params)
        allowed = set(self.names(creating) if accepted is None else accepted)
        for legacy, name in self.legacy_names().items():
            if legacy in out and name in allowed:   # others: unknown, as their new name
                if name in out:
                    raise BadRequest(Code.CONFLICTING_PARAMETERS,
                                     detail=f"{legacy} conflicts with {name}")
                out[name] = out.pop(legacy)
        unknown = sorted(set(out) - allowed)
        if unknown:
            raise BadRequest(Code.UNKNOWN_PARAMETER,
                             detail="unknown parameter(s): " + ", ".join(unknown))
        if not creating and not out:
            raise BadRequest(Code.MISSING_PARAMETER, detail="no parameter to change")
        for one_of in self.required_on_create if creating else ():
            if not any(out.get(name) for name in one_of):
                raise BadRequest(Code.MISSING_PARAMETER,
                                 detail=f"{' or '.join(one_of)} is required")
        return out

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: Any,
              creating: bool, rows: Sequence[Param] | None = None) -> set[str]:
        """Write the given parameters into `draft`, row by row in table order: its stored
        value first, then its rule (each rule once); then the kind's invariants. Returns
        the names used. `context.is_global_admin` decides the GLOBAL rows."""
        used: set[str] = set()
        ran: list[Rule] = []
        for row in self.params if rows is None else rows:
            if row.name not in params:
                continue
            if not (row.on_create if creating else row.on_update):
                raise BadRequest(Code.UNKNOWN_PARAMETER,
                                 detail=f"{row.name} cannot be given when "
                                        f"{'creating' if creating else 'updating'}")
            if row.who is Who.GLOBAL and not context.is_global_admin:
                raise PermissionDenied(detail=f"only global admins may set {row.name}")
            if row.codec is not None:
                row.store(draft, params[row.name])
            if row.rule is not None and not any(row.rule is done for done in ran):
                ran.append(row.rule)
                row.rule.apply(draft, params, context)
            used.add(row.name)
        for rule in self.always:
            rule.apply(draft, params, context)
        return used
