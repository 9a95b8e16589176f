"""A district's refresh policy: lifespans, replacements, thresholds, fiscal year."""
