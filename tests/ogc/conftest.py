"""Shared set-up of the GDAL tests: the run's seed for random inputs (tests/mujun_seed.py)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mujun_seed  # noqa: E402


def pytest_terminal_summary(terminalreporter) -> None:
    mujun_seed.report(terminalreporter)
