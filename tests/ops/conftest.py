"""Shared set-up of the operations tests: several instances behind nginx, backups, crashes."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import mujun_seed  # noqa: E402


def pytest_terminal_summary(terminalreporter) -> None:
    mujun_seed.report(terminalreporter)
