"""gunicorn settings for running gunicorn directly, from a checkout or an installation:

    IREDAPI_CONFIG=/etc/iredapi-ldap/config.yaml gunicorn -c python:iredapi_ldap.gunicorn_conf

`iredapi-ldap serve` uses the same defaults (server.py) without this module."""

from iredapi_ldap.server import gunicorn_defaults

globals().update(gunicorn_defaults())
wsgi_app = "iredapi_ldap.app:get_app()"
