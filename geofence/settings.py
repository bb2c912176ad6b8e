"""Tunable parameters of the judgement, with defaults chosen to keep false alerts rare (see README)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Settings:
    # Confirmation: a breach (or a return) needs this many consecutive decisive fixes, or this much dwell
    # between the first and the latest of them. Either suffices; None disables that criterion.
    confirm_fixes: int | None = 3
    confirm_dwell_s: float | None = 120.0
    # No accepted fix for this long is signal loss, its own state, never a breach.
    signal_loss_s: float = 600.0
    # The accuracy circle judged is max(accuracy * scale, floor). Phones report a 68 % radius (Android's
    # definition): about 1.5 sigma of a 2-D normal error, so 1 in 15 fixes lies outside it. Doubling it
    # (3 sigma, 99.9 % per axis) makes a fix that is wrong enough to breach rare, three in a row negligible.
    # The floor distrusts optimistic 1-3 m values.
    accuracy_scale: float = 2.0
    accuracy_floor_m: float = 10.0
    # Plausibility. Accuracy above this is impossible for a phone fix (cell-tower fixes are a few km).
    max_accuracy_m: float = 100_000.0
    # Faster than this between consecutive fixes, after subtracting both accuracy radii, is a teleport.
    # 100 m/s (360 km/h) lets high-speed rail through.
    max_speed_mps: float = 100.0
    min_interval_s: float = 1.0
    # A fix stamped this far after its receipt is from the future (phone clocks are network-synced).
    future_tolerance_s: float = 120.0
    # Fixes buffered offline are normal; older than this they are stale and could be replays.
    max_age_s: float = 86_400.0
    # This many consecutive bit-identical coordinates are frozen (replayed or cached), not a real receiver.
    frozen_run: int = 30
    # How many fixes an event carries as proof: the first of the run plus the latest ones.
    proof_fixes: int = 5

    def __post_init__(self) -> None:
        if self.confirm_fixes is None and self.confirm_dwell_s is None:
            raise ValueError("confirm_fixes and confirm_dwell_s cannot both be None")
        if self.confirm_fixes is not None and self.confirm_fixes < 1:
            raise ValueError("confirm_fixes must be at least 1")
        if self.proof_fixes < 2 or self.frozen_run < 2:
            raise ValueError("proof_fixes and frozen_run must be at least 2")
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not v >= 0:
                raise ValueError(f"{f.name} must be a non-negative number")
