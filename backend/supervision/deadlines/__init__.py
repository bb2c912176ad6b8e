"""Time limits: the deadline board and days counted in the measure's own time zone."""
