"""A WSGI app that answers every request with the API's shortest reply and does nothing
else. Under gunicorn with `serve`'s settings and worker it shows what HTTP and gunicorn
alone cost on this machine (bench/run.py, "HTTP floor")."""

BODY = b'{"_success": true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
