"""Tests for the renewals feature."""
