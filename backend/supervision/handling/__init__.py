"""Differentiated handling: what a change of code sets in motion, tasks, alerts (live/: sockets)."""
