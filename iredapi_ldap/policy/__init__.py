"""Spam policy, throttling, greylisting and deleted-mailbox records, kept in the SQL tables
that Amavisd, iRedAPD and iRedAdmin read (DESIGN.md section 3)."""
