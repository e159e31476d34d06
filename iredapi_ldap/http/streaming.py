"""Streaming JSON replies, so listings and exports keep memory flat."""

import json

_NOTHING = object()


def stream_list(resp, items):
    """Reply `{"_success": true, "_data": [...]}`, writing the list item by item.

    The first item is produced here, inside the responder, so that a failure to start (the
    directory is down, the search base is missing) still becomes a proper error reply; once
    streaming has begun, a failure can only cut the reply short.
    """
    items = iter(items)
    first = next(items, _NOTHING)
    resp.content_type = "application/json"
    resp.stream = _chunks(first, items)


def _chunks(first, rest):
    yield b'{"_success": true, "_data": ['
    if first is not _NOTHING:
        yield json.dumps(first).encode()
        for item in rest:
            yield b", " + json.dumps(item).encode()
    yield b"]}"
