"""Live alerts over a websocket: single-use tickets, the socket, and its session re-checks."""
