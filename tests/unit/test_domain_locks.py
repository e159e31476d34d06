"""Turns per domain among processes and threads (services/domain_locks.py)."""

import multiprocessing
import threading
import time

from iredapi_ldap.services import domain_locks
from iredapi_ldap.services.domain_locks import DomainLocks


def _hold(directory, domain, ready, release):
    with DomainLocks(directory).turn(domain) as had:
        assert had
        ready.set()
        release.wait(10)


def test_another_process_waits_its_turn_and_goes_without_after_the_wait(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(domain_locks, "WAIT", 0.3)
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold, args=(tmp_path, "a.test", ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        locks = DomainLocks(tmp_path)
        started = time.monotonic()
        with locks.turn("A.test") as had:  # the same domain, whatever its case
            assert not had
        assert time.monotonic() - started >= 0.3
        with locks.turn("b.test") as had:  # another stripe: at once
            assert had
    finally:
        release.set()
        holder.join(10)
    with DomainLocks(tmp_path).turn("a.test") as had:
        assert had


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


def test_a_turn_passes_on_the_quota_sum_its_holder_noted(tmp_path):
    with DomainLocks(tmp_path).turn("E.test") as turn:
        assert turn.known() is None  # nothing noted yet
        turn.note(123)
    with DomainLocks(tmp_path).turn("e.test") as turn:  # another process's, any case
        assert turn.known() == 123
        turn.note(None)
    with DomainLocks(tmp_path).turn("e.test") as turn:
        assert turn.known() is None  # forgotten


def test_a_note_of_another_domain_on_the_stripe_or_torn_is_no_note(tmp_path):
    locks = DomainLocks(tmp_path)
    # A domain sharing e.test's stripe: its note says nothing about e.test.
    stripe = domain_locks.zlib.crc32(b"e.test") % domain_locks.STRIPES
    neighbour = next(name for name in (f"n{i}.test" for i in range(10_000))
                     if domain_locks.zlib.crc32(name.encode()) % domain_locks.STRIPES == stripe)
    with locks.turn(neighbour) as turn:
        turn.note(5)
    with locks.turn("e.test") as turn:
        assert turn.known() is None
        turn.note(123456)
    # A worker killed between writing a shorter note and cutting the file leaves the end of
    # the longer one behind it.
    (tmp_path / f"domain-{stripe:02d}").write_bytes(b"e.test\n7\n56\n")
    with locks.turn("e.test") as turn:
        assert turn.known() is None


def test_a_turn_not_had_knows_and_notes_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with DomainLocks(blocker / "locks").turn("f.test") as turn:
        turn.note(9)
        assert turn.known() is None
