# Settings for running gunicorn directly:
#   IREDAPI_CONFIG=/etc/iredapi-ldap.yaml gunicorn -c gunicorn.conf.py
# `iredapi-ldap serve` uses the same defaults (iredapi_ldap/server.py).
from iredapi_ldap.server import gunicorn_defaults

globals().update(gunicorn_defaults())
wsgi_app = "iredapi_ldap.app:get_app()"
