"""The gunicorn worker `serve` runs: one idle worker wakes per new connection."""

import os
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from iredapi_ldap import server, workers

pytestmark = pytest.mark.skipif(not workers.AVAILABLE, reason="needs Linux epoll")


def idle_worker(listener):
    """An ExclusiveAcceptWorker as far as waiting goes, without gunicorn's arbiter."""
    worker = workers.ExclusiveAcceptWorker.__new__(workers.ExclusiveAcceptWorker)
    worker.sockets, worker.PIPE = [listener], os.pipe()
    worker.tmp = SimpleNamespace(notify=lambda: None)  # gunicorn's heartbeat file
    worker.start_waiting()
    return worker


@pytest.fixture
def listener():
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def test_serve_uses_the_worker():
    assert server.gunicorn_defaults()["worker_class"] == workers.WORKER_CLASS
    assert workers.WORKER_CLASS == "iredapi_ldap.workers.ExclusiveAcceptWorker"


def test_one_connection_wakes_one_of_the_idle_workers(listener):
    idle = [idle_worker(listener) for _ in range(3)]
    woken = []

    def wait(worker):
        if worker.wait(3.0):  # [] when it times out
            woken.append(worker)

    threads = [threading.Thread(target=wait, args=(worker,)) for worker in idle]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # all three are blocked in epoll_wait
    with socket.create_connection(listener.getsockname()):
        for thread in threads:
            thread.join()
    # select(), as gunicorn's sync worker waits, would have woken all three at once.
    assert len(woken) == 1


def test_the_wake_up_pipe_wakes_every_worker(listener):
    """Signals reach a worker through its pipe (signal.set_wakeup_fd), so gunicorn's stop
    and reload reach each one, not one of them."""
    worker = idle_worker(listener)
    os.write(worker.PIPE[1], b"1")
    assert worker.wait(3.0) == [worker.PIPE[0]]
    os.set_blocking(worker.PIPE[0], False)
    with pytest.raises(BlockingIOError):  # the byte was consumed, as SyncWorker.wait does
        os.read(worker.PIPE[0], 1)


def test_a_waiting_connection_is_reported_as_its_listener(listener):
    worker = idle_worker(listener)
    with socket.create_connection(listener.getsockname()):
        assert worker.wait(3.0) == [listener]
