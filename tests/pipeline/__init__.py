"""Tests for the cooperative's pipeline."""
