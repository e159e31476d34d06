"""The shared choice of the server of LDAP_URI a worker uses (directory/leader.py)."""

from concurrent.futures import ThreadPoolExecutor

from iredapi_ldap.directory.leader import Leader

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
