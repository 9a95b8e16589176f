"""The lifecycle scan: obligations derived set-based from the inventory, and its jobs."""
