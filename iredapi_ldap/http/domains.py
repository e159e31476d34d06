"""GET /api/domains."""

from ..model.render import render_entry
from ..services.domains import list_domains
from .params import flag, read_params
from .streaming import stream_list


class Domains:
    def __init__(self, directory, layout):
        self._directory = directory
        self._layout = layout

    def on_get(self, req, resp):
        params = read_params(req).only("name_only", "disabled_only")
        names_only = flag(params, "name_only")
        entries = list_domains(self._directory, self._layout, req.context.caller,
                               disabled_only=flag(params, "disabled_only"),
                               names_only=names_only)
        stream_list(resp, (_item(e, names_only) for e in entries))


def _item(entry, names_only):
    return str(entry.first("domainName", "")).lower() if names_only else render_entry(entry)
