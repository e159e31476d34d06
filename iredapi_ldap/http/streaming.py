"""Streaming JSON replies, so listings and exports keep memory flat."""

import json


def stream_list(resp, items):
    """Reply `{"_success": true, "_data": [...]}`, writing the list item by item."""
    resp.content_type = "application/json"
    resp.stream = _chunks(items)


def _chunks(items):
    yield b'{"_success": true, "_data": ['
    separator = b""
    for item in items:
        yield separator + json.dumps(item).encode()
        separator = b", "
    yield b"]}"
