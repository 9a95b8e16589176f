"""Service contracts: coverage, escalation, services and pages."""
