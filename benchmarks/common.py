"""What every benchmark group shares: one row of the table, the run's settings, formatting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    what: str
    figure: str
    reference: str
    ratio: str
    target: str = ""
    met: str = ""


@dataclass
class Settings:
    n: int  # iterations per round for per-call figures
    rounds: int
    cold_samples: int
    process_samples: int  # cold samples for subprocess-based providers
    round_trips: int
    store_sizes: tuple[int, ...]
    process_rounds: int  # interleaved rounds of whole processes (the cold group)


# Short rounds, many of them: on a shared machine the best of many short rounds is
# more often undisturbed than the best of a few long ones.
FULL = Settings(4_000, 15, 200, 30, 300, (10, 1_000, 100_000), 21)
QUICK = Settings(1_000, 5, 20, 5, 100, (10, 1_000, 100_000), 5)


def fmt_us(seconds: float) -> str:
    micro = seconds * 1e6
    if micro >= 1000:
        return f"{micro / 1000:.2f} ms"
    return f"{micro:.2f} µs"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
