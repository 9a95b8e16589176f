"""Software licenses: seats, services and pages."""
