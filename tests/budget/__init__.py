"""Tests for the budget feature."""
