"""iRedMail's usage counters on the domain entry (`domainCurrent*`).

Domains created by other tools may lack them; they are then computed once, by counting, and
stored. The Mail users and Aliases issues keep them up to date on every create and delete.
"""

from ..directory import Change, Op, Scope

# counter attribute -> (container, filter of what it counts)
COUNTED = {
    "domainCurrentUserNumber": ("Users", "(&(objectClass=mailUser)(!(mail=@*)))"),
    "domainCurrentAliasNumber": ("Aliases", "(objectClass=mailAlias)"),
    "domainCurrentListNumber": ("Groups", "(objectClass=mailList)"),
}
QUOTA = "domainCurrentQuotaSize"
ATTRIBUTES = (*COUNTED, QUOTA)


def ensure_counters(directory, layout, domain, entry):
    """The domain's counters as {attribute: int}, computing and storing missing ones."""
    values, changes = {}, []
    for attribute, (container, search_filter) in COUNTED.items():
        current = entry.first(attribute)
        if current is None:
            current = sum(1 for _ in directory.search(
                layout.container_dn(domain, container), search_filter, Scope.ONE, ["1.1"]))
            changes.append(Change(attribute, Op.REPLACE, (str(current),)))
        values[attribute] = int(current)
    quota = entry.first(QUOTA)
    if quota is None:
        quota = sum(int(e.first("mailQuota", 0) or 0) for e in directory.search(
            layout.container_dn(domain, "Users"), COUNTED["domainCurrentUserNumber"][1],
            Scope.ONE, ["mailQuota"]))
        changes.append(Change(QUOTA, Op.REPLACE, (str(quota),)))
    values[QUOTA] = int(quota)
    if changes:
        directory.modify(layout.domain_dn(domain), changes)
    return values
