"""Check-ins: judging a submission, windows and random checks, the missed sweep, receipts."""
