"""The weighted sales pipeline: forecasts, a plan's impact on them, and their reports."""
