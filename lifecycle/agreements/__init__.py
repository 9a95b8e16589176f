"""Licenses and service contracts: term rules, term bookkeeping, the scan's term SQL, pages."""
