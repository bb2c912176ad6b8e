"""Fences and locations: zones, allowed areas, the upload, fix dedup and times, the track, signal loss."""
