"""Measures: placing, reading and ending them, the notice, obligations, check-in plans, devices."""
