"""What the person asks and an officer decides: contests, travel, transfers, summonses."""
