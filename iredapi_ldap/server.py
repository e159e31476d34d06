"""Running the app under gunicorn, in-process, for `serve` and `dev`."""

import multiprocessing
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from . import metrics
from .workers import WORKER_CLASS

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_TIMEOUT = 300  # a domain-wide change may take minutes


def gunicorn_defaults():
    """Server settings used unless the command line says otherwise (also read by
    `gunicorn_conf.py` for operators who start gunicorn themselves)."""
    return {
        "bind": DEFAULT_BIND,
        "workers": 2 * multiprocessing.cpu_count() + 1,
        "worker_class": WORKER_CLASS,
        "timeout": DEFAULT_TIMEOUT,
        "graceful_timeout": 30,
        "accesslog": "-",
        "logger_class": "iredapi_ldap.accesslog.RedactingLogger",
        "errorlog": "-",
        # The app decides whom to believe (TRUSTED_PROXIES, http/middleware.py); gunicorn
        # itself never takes the scheme or address from a header.
        "forwarded_allow_ips": "",
        "child_exit": child_exit,
    }


def child_exit(server, worker):
    """gunicorn's hook after a worker exited: the metrics forget its live values (its
    counts stay in the sums)."""
    metrics.mark_process_dead(worker.pid)


def metrics_directory(data_dir):
    """Where the workers of `serve` and `dev` keep their metrics, emptied now: /metrics in
    any worker then sums them all (prometheus-client's multiprocess mode). Called before
    gunicorn starts its workers."""
    return metrics.use_multiprocess_dir(Path(data_dir) / "metrics")


def control_socket(data_dir):
    """gunicorn's control socket (`gunicornc`, gunicorn 27 on) in DATA_DIR: its default is
    one path per user, which each instance on the host takes over from the one before and
    removes when it stops. Nothing on a gunicorn without it."""
    if not any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        return {}
    return {"control_socket": str(Path(data_dir).resolve() / "gunicorn.ctl")}


class ApiServer(BaseApplication):
    """gunicorn running `app_factory()` in each worker."""

    def __init__(self, app_factory, options):
        self._factory = app_factory
        self._options = {**gunicorn_defaults(), **{k: v for k, v in options.items() if v}}
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._factory()
