"""Renewals: license and contract terms, decide-by dates and reminders (DESIGN §3.1)."""
