"""A listing shows each entry as its single read does (numbers as numbers, `members` on
aliases and lists), and the members of a page of lists cost the same few searches
whatever the number of lists."""

import pytest

from .. import helpers
from ..helpers import form, reply
from .test_membership_cost import Counting

pytestmark = pytest.mark.slapd


def get(client, cookies, path, **params):
    result = client.simulate_get(path, params=params, cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def same_shapes(listed, single):
    """Every attribute the listing shows has the value and JSON type of the single read."""
    for key, value in listed.items():
        assert type(value) is type(single[key]) and value == single[key], key


def test_domain_listing_shows_numbers_as_the_domain_read(client, admin_cookies, domain,
                                                         directory, layout):
    helpers.add_mail_user(directory, layout, f"q@{domain}", mailQuota=["1048576"])
    single = get(client, admin_cookies, f"/api/domain/{domain}")   # counts, stores counters
    assert single["domainCurrentQuotaSize"] == 1048576
    for params in ({}, {"limit": 1000}):
        listed = next(d for d in get(client, admin_cookies, "/api/domains", **params)
                      if d["domainName"] == domain)
        assert listed["domainCurrentQuotaSize"] == 1048576
        same_shapes(listed, single)


def test_groups_listings_carry_members_as_their_reads(client, admin_cookies, domain,
                                                      directory, layout):
    helpers.add_mail_user(directory, layout, f"m@{domain}")
    for kind in ("alias", "maillist"):
        for local, members in (("one", f"m@{domain},out@example.org"), ("none", "")):
            result = form(client, "POST", f"/api/{kind}/{kind}-{local}@{domain}",
                          {"members": members} if members else {}, cookies=admin_cookies)
            assert reply(result) == (200, True, None)
    for kind, plural in (("alias", "aliases"), ("maillist", "maillists")):
        for params in ({}, {"limit": 1}):
            listed = get(client, admin_cookies, f"/api/{plural}/{domain}", **params)
            for item in listed:
                single = get(client, admin_cookies, f"/api/{kind}/{item['mail']}")
                same_shapes(item, single)
                assert set(item) == set(single)
        members = {i["mail"]: i["members"] for i in get(client, admin_cookies,
                                                        f"/api/{plural}/{domain}")}
        assert members == {f"{kind}-one@{domain}": sorted([f"m@{domain}", "out@example.org"]),
                           f"{kind}-none@{domain}": []}


class CountingWindows(Counting):
    OPERATIONS = (*Counting.OPERATIONS, "search_window")


def _list_searches(make_client, directory, admin_cookies, domain, params):
    counting = CountingWindows(directory)
    client = make_client(directory=counting)
    get(client, admin_cookies, f"/api/maillists/{domain}", **params)
    return counting.counts["search"] + counting.counts["get"]


@pytest.mark.parametrize("params", [{}, {"limit": 40}])
def test_list_members_cost_does_not_grow_with_the_lists(make_client, client, admin_cookies,
                                                        directory, layout, domain, params):
    helpers.add_mail_user(directory, layout, f"m@{domain}")
    costs = {}
    for count in (3, 30):
        for i in range(len(costs) and 3, count):
            result = form(client, "POST", f"/api/maillist/l{i:02d}@{domain}",
                          {"members": f"m@{domain},ext{i}@example.org"}, cookies=admin_cookies)
            assert reply(result) == (200, True, None)
        costs[count] = _list_searches(make_client, directory, admin_cookies, domain, params)
    # the session's admin, the domain, the listing (or its window), the lists' internal
    # members (one search) and external members (one search); one member read per list
    # would add 2 x 27
    assert costs[3] == costs[30] <= 5, costs
