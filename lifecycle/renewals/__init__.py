"""Renewals: the pages where a district works its obligations — the timeline, the list
and the actions on one (acknowledge, snooze, renew, cancel, replace)."""
