"""Streaming JSON replies, so listings and exports keep memory flat."""

import itertools
import json


def primed(items):
    """`items` with its first item already produced.

    Called inside the responder, so that a failure to start (the directory is down, the
    search base is missing) still becomes a proper error reply; once streaming has begun, a
    failure can only cut the reply short.
    """
    items = iter(items)
    for first in items:
        return itertools.chain([first], items)
    return iter(())


def stream_list(resp, items):
    """Reply `{"_success": true, "_data": [...]}`, writing the list item by item."""
    resp.content_type = "application/json"
    resp.stream = _chunks(primed(items))


def _chunks(items):
    yield b'{"_success": true, "_data": ['
    for index, item in enumerate(items):
        yield (b", " if index else b"") + json.dumps(item).encode()
    yield b"]}"
