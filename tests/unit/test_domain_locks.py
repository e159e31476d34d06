"""Turns per domain among processes and threads (services/domain_locks.py)."""

import contextlib
import multiprocessing
import os
import threading
import time

from iredapi_ldap.services import domain_locks
from iredapi_ldap.services.domain_locks import DomainLocks


def _hold(directory, domain, ready, release):
    with DomainLocks(directory).turn(domain) as had:
        assert had
        ready.set()
        release.wait(10)


@contextlib.contextmanager
def held_by_another_process(directory, domain):
    """While the block runs, another process holds the domain's turn."""
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold, args=(directory, domain, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


def test_another_process_waits_its_turn_and_goes_without_after_the_wait(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(domain_locks, "WAIT", 0.3)
    with held_by_another_process(tmp_path, "a.test"):
        locks = DomainLocks(tmp_path)
        started = time.monotonic()
        with locks.turn("A.test") as had:  # the same domain, whatever its case
            assert not had
        assert time.monotonic() - started >= 0.3
        with locks.turn("b.test") as had:  # another domain: at once
            assert had
    with DomainLocks(tmp_path).turn("a.test") as had:
        assert had


def test_no_other_domain_waits_for_a_domains_turn(tmp_path, monkeypatch):
    """Domains do not share locks: 300 names (which 64 shared files would have put in
    a.test's company several times) all get their turn at once while another process
    holds a.test's. A normal admin naming its domains cannot hold up another's."""
    monkeypatch.setattr(domain_locks, "WAIT", 0.3)
    with held_by_another_process(tmp_path, "a.test"):
        locks = DomainLocks(tmp_path)
        for n in range(300):
            with locks.turn(f"d{n}.test") as had:
                assert had, f"d{n}.test waited for a.test"


def test_no_other_domain_waits_for_a_turn_a_thread_holds(tmp_path, monkeypatch):
    """The same within one process: its threads' locks are per domain too."""
    monkeypatch.setattr(domain_locks, "WAIT", 0.3)
    locks, ready, release = DomainLocks(tmp_path), threading.Event(), threading.Event()

    def hold():
        with locks.turn("a.test") as had:
            assert had
            ready.set()
            release.wait(10)
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert ready.wait(10)
        for n in range(300):
            with locks.turn(f"d{n}.test") as had:
                assert had, f"d{n}.test waited for a.test"
    finally:
        release.set()
        holder.join(10)
    assert list(locks._threads) == []  # none kept once no thread holds or waits


def test_threads_of_one_process_take_turns(tmp_path):
    locks, inside, most = DomainLocks(tmp_path), [0], [0]
    lock = threading.Lock()

    def one():
        with locks.turn("c.test") as had:
            assert had
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1
    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_without_a_usable_directory_it_goes_without(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with DomainLocks(blocker / "locks").turn("d.test") as had:
        assert not had


def wait_while_another_process_lets_go(directory, lets_go):
    """(whether it was had, seconds waited) of this process's turn on a.test, asked while
    another process holds it; `lets_go(holder, release)` ends the hold 0.3 s later."""
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold, args=(directory, "a.test", ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        threading.Timer(0.3, lets_go, args=(holder, release)).start()
        started = time.monotonic()
        with DomainLocks(directory).turn("a.test") as had:
            waited = time.monotonic() - started
    finally:
        if holder.is_alive():  # a holder killed while it waited may hold the event's lock
            release.set()
        holder.join(10)
    return bool(had), waited


def test_a_waiter_is_woken_as_the_holder_lets_go(tmp_path, monkeypatch):
    """Another process's release wakes the waiter at once (the wake pipe): were it to try
    again only every FALLBACK (5 s here), it would wait 5 s, not 0.3."""
    monkeypatch.setattr(domain_locks, "FALLBACK", 5.0)
    monkeypatch.setattr(domain_locks, "WAIT", 20.0)
    had, waited = wait_while_another_process_lets_go(tmp_path, lambda holder, release:
                                                     release.set())
    assert had
    assert 0.2 < waited < 2.0


def test_a_holder_killed_before_it_could_wake_anyone_holds_up_nobody(tmp_path, monkeypatch):
    """Killed while holding the turn: the kernel drops its lock, no byte is written, and
    the waiter's next try (within FALLBACK) has the turn."""
    monkeypatch.setattr(domain_locks, "WAIT", 20.0)
    had, waited = wait_while_another_process_lets_go(tmp_path, lambda holder, release:
                                                     holder.kill())
    assert had
    assert 0.2 < waited < 2.0


def test_without_a_wake_pipe_a_waiter_tries_again_until_it_has_its_turn(tmp_path,
                                                                         monkeypatch):
    """No pipe can be made (no space, no FIFOs on the file system): the waiter polls
    instead, and has its turn once the holder lets go; nothing escapes."""
    def no_fifo(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(domain_locks.os, "mkfifo", no_fifo)
    monkeypatch.setattr(domain_locks, "WAIT", 20.0)
    had, waited = wait_while_another_process_lets_go(tmp_path, lambda holder, release:
                                                     release.set())
    assert had
    assert 0.2 < waited < 2.0
    assert not list(tmp_path.glob("wake-*"))


def test_a_file_in_place_of_a_wake_pipe_is_not_waited_on(tmp_path):
    """A regular file (a restore that does not keep FIFOs) would always be readable: it is
    not used (the waiter polls), nor followed if it is a symbolic link."""
    (tmp_path / "wake-file").write_text("")
    (tmp_path / "wake-link").symlink_to(tmp_path / "elsewhere")
    assert domain_locks._open_wake(tmp_path / "wake-file") is None
    assert domain_locks._open_wake(tmp_path / "wake-link") is None
    assert not (tmp_path / "elsewhere").exists()


def test_a_waiter_gone_before_the_wake_fails_nothing(tmp_path, monkeypatch):
    """The last waiter closed the pipe between the holder's open and its write (EPIPE): the
    turn ends as usual. (It once escaped from the turn's end, after the reservation's write,
    and failed the create with its room taken.)"""
    def broken(*args):
        raise BrokenPipeError(32, "Broken pipe")
    locks = DomainLocks(tmp_path)
    with locks.turn("a.test"):
        pass
    name = next(tmp_path.glob("domain-*")).name.removeprefix("domain-")
    pipe = domain_locks._open_wake(tmp_path / f"wake-{name}")  # as a waiter has it open
    monkeypatch.setattr(domain_locks.os, "write", broken)
    try:
        with locks.turn("a.test") as had:
            assert had
    finally:
        os.close(pipe)
