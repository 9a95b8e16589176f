"""The cooperative's pipeline: every member district's open needs by quarter (docs/rules.md#the-pipeline)."""
