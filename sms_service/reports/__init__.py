"""Reports staff can trust: figures over a date range, rates, per-tip results, failures."""
