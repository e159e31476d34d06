"""repl-verify's comparison of two providers' (DN, entryCSN) stamps."""

from iredapi_ldap.services.replication import Difference, compare

A = "ldap://a:389"
CSN1 = "20261129105317.109592Z#000000#001#000000"
CSN2 = "20261129105318.111639Z#000000#002#000000"


def test_equal_stamps_differ_in_nothing_whatever_the_order_and_case():
    reference = [("o=domains,dc=x", CSN1), ("domainName=a.test,o=domains,dc=x", CSN2)]
    other = [("domainname=A.test,o=domains,dc=x", CSN2), ("o=domains,dc=x", CSN1)]
    assert compare(reference, other, "B") == []


def test_missing_on_either_side_and_another_csn_are_each_reported():
    reference = [("cn=only-ref,dc=x", CSN1), ("cn=both,dc=x", CSN1)]
    other = [("cn=both,dc=x", CSN2), ("cn=only-other,dc=x", CSN2)]
    found = compare(reference, other, "B")
    assert found == [Difference("cn=both,dc=x", "B", CSN1, CSN2),
                     Difference("cn=only-other,dc=x", "B", None, CSN2),
                     Difference("cn=only-ref,dc=x", "B", CSN1, None)]
    assert [d.line(A) for d in found] == [
        f"entryCSN differs: cn=both,dc=x: {CSN1} on {A}, {CSN2} on B",
        f"missing on {A}: cn=only-other,dc=x (entryCSN {CSN2} on B)",
        f"missing on B: cn=only-ref,dc=x (entryCSN {CSN1} on {A})"]
