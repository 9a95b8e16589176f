"""Vendors: shared reference data the cooperative keeps."""
