"""A district's schools and sites."""
