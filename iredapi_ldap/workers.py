"""The gunicorn worker `serve` runs: gunicorn's sync worker, woken alone for a connection.

gunicorn's sync workers all wait with select() on the one listening socket, so every new
connection wakes every idle worker and all but one find nothing to accept. With the default
of 2 x cores + 1 workers those wake-ups compete with the request itself for the cores: on a
2-core machine this worker serves 13-24 % more GET /api/user and 22-35 % more logins per
second than the sync worker (`python -m bench.workers`, bench/README.md). Registering the
socket with EPOLLEXCLUSIVE (Linux 4.5 and later) makes the kernel wake one waiting worker
only; everything else is gunicorn's sync worker unchanged.
"""

import os
import select

from gunicorn.workers.sync import SyncWorker

# Where the kernel cannot wake one waiter only, gunicorn's own sync worker is used.
AVAILABLE = hasattr(select, "epoll") and hasattr(select, "EPOLLEXCLUSIVE")
WORKER_CLASS = "iredapi_ldap.workers.ExclusiveAcceptWorker" if AVAILABLE else "sync"


class ExclusiveAcceptWorker(SyncWorker):
    """A sync worker that waits for connections with epoll and EPOLLEXCLUSIVE."""

    def run(self):
        self.start_waiting()
        try:
            super().run()
        finally:
            self._poller.close()

    def start_waiting(self):
        """Register the listeners and the wake-up pipe with a new epoll instance.

        Called in the forked worker, where both exist; each worker needs its own instance
        for the kernel to pick one of them.
        """
        self._poller = select.epoll()
        self._waitables = {}
        for listener in self.sockets:
            self._watch(listener, select.EPOLLIN | select.EPOLLEXCLUSIVE)
        # The pipe that signals and the reloader write to: every worker must see it.
        self._watch(self.PIPE[0], select.EPOLLIN)

    def _watch(self, waitable, events):
        fd = waitable if isinstance(waitable, int) else waitable.fileno()
        self._poller.register(fd, events)
        self._waitables[fd] = waitable

    def wait(self, timeout):
        """What SyncWorker.wait returns: the listeners (and the pipe) ready to be read."""
        self.notify()
        ready = [self._waitables[fd] for fd, _events in self._poller.poll(timeout)]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
        return ready
