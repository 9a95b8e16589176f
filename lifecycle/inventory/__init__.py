"""District inventory: devices, licenses and service contracts."""
