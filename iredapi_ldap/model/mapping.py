"""The generic engine that applies a kind's `Field` rows to an `EntryDraft`. Pure."""

from ..errors import BadRequest, Code, PermissionDenied
from .fields import LEGACY_NAMES


def canonical_params(params):
    """Rename legacy parameter names (`cn` -> `name`, ...); giving both is a conflict."""
    out = dict(params)
    for legacy, name in LEGACY_NAMES.items():
        if legacy in out:
            if name in out:
                raise BadRequest(Code.CONFLICTING_PARAMETERS,
                                 detail=f"{legacy} conflicts with {name}")
            out[name] = out.pop(legacy)
    return out


def apply_fields(fields, params, draft, creating, is_global_admin=True):
    """Write the given parameters of `fields` into `draft`; returns the names used."""
    used = set()
    for field in fields:
        if field.param not in params:
            continue
        if not (field.on_create if creating else field.on_update):
            raise BadRequest(Code.UNKNOWN_PARAMETER,
                             detail=f"{field.param} cannot be given when "
                                    f"{'creating' if creating else 'updating'}")
        if getattr(field, "global_only", False) and not is_global_admin:
            raise PermissionDenied(detail=f"only global admins may set {field.param}")
        values = field.encode(params[field.param])
        if field.setting:
            draft.set_setting(field.setting, values[0] if values else None)
        else:
            draft.set(field.attribute, values)
        used.add(field.param)
    return used
