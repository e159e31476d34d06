"""The shared choice of the server of LDAP_URI a worker uses (directory/leader.py)."""

from concurrent.futures import ThreadPoolExecutor

from iredapi_ldap.directory.leader import CATCH_UP_RETRY, NOTE_INTERVAL, Leader

A, B, C = "ldap://a", "ldap://b", "ldap://c"


def test_the_first_server_leads_until_it_is_found_down_then_the_next_wrapping_round():
    leader = Leader((A, B, C))
    assert leader.current == A
    leader.found_down(A)
    assert leader.current == B
    leader.found_down(B)
    leader.found_down(C)
    assert leader.current == A


def test_a_server_already_left_changes_nothing():
    leader = Leader((A, B, C))
    leader.found_down(A)
    leader.found_down(A)  # a second thread reports the same server: no second move
    leader.found_down(C)  # not the current one
    assert leader.current == B


def test_threads_that_find_the_leader_down_at_once_move_it_once():
    leader = Leader((A, B, C))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: leader.found_down(A), range(64)))
    assert leader.current == B


def test_a_single_server_stays():
    leader = Leader((A,))
    leader.found_down(A)
    assert leader.current == A


def csn(when, sid):
    return f"20261129{when}.000000Z#000000#{sid}#000000"


def test_a_server_holds_everything_when_it_is_as_new_for_every_server_id():
    from iredapi_ldap.directory.leader import holds_everything
    current = [csn("105317", "001"), csn("105320", "002")]
    assert holds_everything(current, current)
    assert holds_everything([csn("105318", "001"), csn("105320", "002")], current)
    assert not holds_everything([csn("105317", "001"), csn("105319", "002")], current)
    assert not holds_everything([csn("105317", "001")], current)  # nothing yet from 002
    assert holds_everything([csn("105317", "001")], [])  # no syncprov: nothing to wait for


def test_fail_back_is_checked_by_one_caller_at_the_interval_and_moves_back():
    now = [0.0]
    leader = Leader((A, B, C), failback_interval=10, clock=lambda: now[0])
    assert leader.failback_candidates() is None  # on the first server: nothing to check
    leader.found_down(A)
    assert leader.failback_candidates() is None  # not due yet
    now[0] = 10
    assert leader.failback_candidates() == (B, (A,))
    assert leader.failback_candidates() is None  # one check at a time
    leader.failback_checked(B, None)  # A not caught up: stay, check again later
    assert leader.current == B and leader.failback_candidates() is None
    now[0] = 20
    assert leader.failback_candidates() == (B, (A,))
    leader.failback_checked(B, A)
    assert leader.current == A


def test_a_fail_back_decided_after_the_worker_moved_on_is_dropped():
    now = [10.0]
    leader = Leader((A, B, C), failback_interval=0, clock=lambda: now[0])
    leader.found_down(A)
    assert leader.failback_candidates() == (B, (A,))
    leader.found_down(B)  # meanwhile B went down too: the worker is on C
    leader.failback_checked(B, A)
    assert leader.current == C


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_failover_holds_reserving_writes_until_the_new_leader_has_caught_up():
    clock = Clock()
    leader = Leader((A, B), clock=clock)
    assert leader.hold is None and leader.catch_up_due() is None
    leader.noted(A, ["20261129105317.000001Z#000000#001#000000"])
    leader.found_down(A)
    hold = leader.hold
    assert (hold.old, hold.new, hold.awaited, hold.since) == (
        A, B, ("20261129105317.000001Z#000000#001#000000",), 100.0)
    assert leader.catch_up_due() is hold
    assert leader.catch_up_due() is None  # one check at a time
    leader.catch_up_checked(hold, caught_up=False)
    assert leader.catch_up_due() is None  # not before CATCH_UP_RETRY
    clock.now += CATCH_UP_RETRY
    assert leader.catch_up_due() is hold
    leader.catch_up_checked(hold, caught_up=True)
    assert leader.hold is None


def test_a_second_failover_before_the_catch_up_keeps_awaiting_the_first():
    leader = Leader((A, B, C))
    leader.noted(A, ["20261129105317.000001Z#000000#001#000000"])
    leader.found_down(A)
    first = leader.catch_up_due()
    leader.noted(B, ["20261129105317.000002Z#000000#002#000000"])
    leader.found_down(B)
    leader.catch_up_checked(first, caught_up=True)  # a check of the first hold: too late
    assert leader.hold is not None and leader.hold.new == C
    assert leader.hold.awaited == ("20261129105317.000001Z#000000#001#000000",
                                   "20261129105317.000002Z#000000#002#000000")


def test_the_leaders_contextcsn_is_read_at_most_every_note_interval():
    clock = Clock()
    leader = Leader((A, B), clock=clock)
    assert leader.note_due() == A
    assert leader.note_due() is None
    clock.now += NOTE_INTERVAL
    assert leader.note_due() == A


def test_a_fail_back_holds_reserving_writes_until_every_host_had_its_check():
    """The other hosts stay on the server left until their own check, up to an interval
    later (plus the time a check takes): reserving writes wait that long after moving
    back, and for the server moved to to hold all that the one left held."""
    now = [0.0]
    leader = Leader((A, B), failback_interval=10, clock=lambda: now[0], failback_settle=2.5)
    leader.found_down(A)
    leader.catch_up_checked(leader.catch_up_due(), caught_up=True)
    assert leader.hold is None
    leader.noted(B, [csn("105320", "002")])
    now[0] = 11.0
    assert leader.failback_candidates() == (B, (A,))
    leader.failback_checked(B, A)
    hold = leader.hold
    assert (leader.current, hold.old, hold.new) == (A, B, A)
    assert hold.awaited == (csn("105320", "002"),)
    assert hold.not_before == 11.0 + 10 + 2.5
    leader.failback_checked(A, None)  # no move, no new hold
    assert leader.hold is hold


def test_what_a_server_was_seen_to_hold_only_grows_by_server_id():
    leader = Leader((A, B))
    leader.noted(A, [csn("105320", "001")])
    leader.wrote(A, csn("105321", "001"))  # a reservation's own entryCSN
    leader.noted(A, [csn("105320", "001"), csn("105300", "002")])  # a reading begun before
    leader.found_down(A)
    assert leader.hold.awaited == tuple(sorted((csn("105321", "001"), csn("105300", "002"))))


def test_reserving_writes_wait_while_the_own_fail_back_check_is_due_or_running():
    """An idle worker still on the second server would otherwise write there after the
    others moved back: while its check is due or running, its reserving writes wait."""
    now = [0.0]
    leader = Leader((A, B), failback_interval=10, clock=lambda: now[0])
    assert not leader.failback_pending()  # on the first server
    leader.found_down(A)
    assert not leader.failback_pending()  # checked at the interval only
    now[0] = 10.0
    assert leader.failback_pending()
    assert leader.failback_candidates() == (B, (A,))
    assert leader.failback_pending()  # running
    leader.failback_checked(B, None)  # A not back: stay
    assert not leader.failback_pending()


def test_the_old_leader_back_the_worker_moves_back_with_the_hold_of_a_fail_back():
    now = [0.0]
    leader = Leader((A, B), failback_interval=10, clock=lambda: now[0], failback_settle=1)
    leader.found_down(A)
    failover = leader.hold
    now[0] = 3.0
    leader.moved_back(B, A)
    assert leader.current == A
    assert leader.hold is not failover and leader.hold.not_before == 3.0 + 10 + 1
    assert leader.catch_up_due() is None  # no check before then
    leader.moved_back(B, A)  # already moved: nothing changes
    assert leader.current == A
