"""The 100-point ledger: entries, the scoring rules and thresholds, agency policy."""
