"""Budget: fiscal years and the multi-year forecast (docs/rules.md#fiscal-years)."""
