"""Turns per domain among processes and threads (services/domain_locks.py)."""

import contextlib
import multiprocessing
import threading
import time

from iredapi_ldap.services import domain_locks
from iredapi_ldap.services.domain_locks import DomainLocks, Note


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
        with locks.turn("b.test") as had:  # another stripe: at once
            assert had
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


def test_a_turn_passes_on_what_its_holder_noted(tmp_path):
    with DomainLocks(tmp_path).turn("E.test") as turn:
        assert turn.known() is None  # nothing noted yet
        turn.note(Note(123456, "20261129161500.000001Z#000000#000#000000"))
    with DomainLocks(tmp_path).turn("e.test") as turn:  # another instance's, any case
        assert turn.known() == Note(123456, "20261129161500.000001Z#000000#000#000000")
        turn.note(Note(7, "20261129161500.000002Z#000000#000#000000"))  # shorter
    with DomainLocks(tmp_path).turn("e.test") as turn:
        assert turn.known() == Note(7, "20261129161500.000002Z#000000#000#000000")
        turn.note(None)
    with DomainLocks(tmp_path).turn("e.test") as turn:
        assert turn.known() is None  # forgotten


def _stripe_of(domain):
    return domain_locks.zlib.crc32(domain.encode()) % domain_locks.STRIPES


def test_a_note_of_another_domain_on_the_stripe_or_cut_is_no_note(tmp_path):
    locks, stripe = DomainLocks(tmp_path), _stripe_of("e.test")
    # A domain sharing e.test's stripe: its note says nothing about e.test.
    neighbour = next(name for name in (f"n{i}.test" for i in range(10_000))
                     if _stripe_of(name) == stripe)
    with locks.turn(neighbour) as turn:
        turn.note(Note(5, "csn"))
    with locks.turn("e.test") as turn:
        assert turn.known() is None
    note_file = tmp_path / f"domain-{stripe:02d}"
    # A worker killed while it wrote leaves a cut note; digits only, as written.
    for text in ("e.test\ncsn\n12", "e.test\ncsn\n", "e.test\n\n12\n", "e.test\ncsn\n1²\n",
                 "e.test\ncsn\n12\n3\n"):
        note_file.write_text(text)
        with locks.turn("e.test") as turn:
            assert turn.known() is None, text
    note_file.write_text("e.test\ncsn\n12\n")
    with locks.turn("e.test") as turn:
        assert turn.known() == Note(12, "csn")


def test_a_turn_not_had_knows_and_notes_nothing(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with DomainLocks(blocker / "locks").turn("f.test") as turn:  # no lock files
        turn.note(Note(9, "csn"))
        assert turn.known() is None
    locks = DomainLocks(tmp_path)
    with locks.turn("g.test") as turn:
        turn.note(Note(9, "csn"))
    monkeypatch.setattr(domain_locks, "WAIT", 0.2)
    with held_by_another_process(tmp_path, "g.test"):
        with locks.turn("g.test") as turn:  # the wait passed: the file is another's now
            assert not turn
            assert turn.known() is None
            turn.note(Note(1, "csn"))
    with locks.turn("g.test") as turn:
        assert turn.known() == Note(9, "csn")
