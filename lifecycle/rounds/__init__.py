"""Pooled purchase rounds: tiers, commitments, close, award (docs/rules.md#pooled-purchase-rounds)."""
