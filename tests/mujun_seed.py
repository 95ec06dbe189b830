"""The one seed of a test run's random inputs, shared by the Python legs (tests/cli, tests/ogc,
tests/browser, tests/api).

    MUJUN_TEST_SEED=1234 make test-cli     repeats the random inputs of a run that printed 1234

Without MUJUN_TEST_SEED every run draws a fresh seed, so runs keep trying new inputs; each
leg's conftest.py prints the seed in pytest's closing summary (and failing tests whose inputs
were random name it too), so any failure can be repeated exactly. Every random input comes
from `rng(label)`: a `random.Random` seeded from the run's seed and the label, so adding a
generator in one test does not shift the inputs of another.
"""
from __future__ import annotations

import hashlib
import os
import random

ENV = "MUJUN_TEST_SEED"


def _draw() -> int:
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return int(value)
        except ValueError:
            raise SystemExit(f"{ENV} must be an integer, got {value!r}") from None
    return random.SystemRandom().randrange(1, 2**31)


SEED: int = _draw()


def rng(label: str) -> random.Random:
    """A generator for one named random input, derived from SEED and the label."""
    digest = hashlib.sha256(f"{SEED}:{label}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def summary_line() -> str:
    return f"random test inputs: {ENV}={SEED} (set {ENV}={SEED} to repeat them)"


def report(terminalreporter) -> None:
    """For pytest_terminal_summary: the seed, in the closing lines (shown with -q too)."""
    terminalreporter.write_line(summary_line())
