"""Budget: fiscal years and the multi-year forecast (DESIGN §3.4, §3.5)."""
