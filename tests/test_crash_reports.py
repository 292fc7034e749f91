"""Crash reports and log files: a real uncaught exception, a real fatal error and real rotation."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core.config import AppConfig
from core.crash_reports import CrashGuard, collect_fault_log, mark_seen, unseen_reports
from core.log_files import configure_logging, remove_logging
from tests.cli_runner import ROOT


def run_python(code: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code).format(log_dir=str(log_dir))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_an_uncaught_exception_leaves_a_report_the_next_start_offers(tmp_path: Path) -> None:
    crashed = run_python(
        """
        from pathlib import Path
        from core.crash_reports import CrashGuard
        CrashGuard(Path({log_dir!r})).install()
        def open_drawer():
            raise RuntimeError("the cash drawer is jammed")
        open_drawer()
        """,
        tmp_path,
    )
    assert crashed.returncode == 1
    reports = unseen_reports(tmp_path)
    assert len(reports) == 1
    report = reports[0]
    assert "PrintDesk crash report" in report.text and "version: PrintDesk" in report.text
    assert "platform: " in report.text and "in open_drawer" in report.text
    assert report.summary == "RuntimeError: the cash drawer is jammed"

    mark_seen(report)
    assert unseen_reports(tmp_path) == []
    assert (tmp_path / "crashes" / (report.path.stem + ".seen.txt")).is_file()


def test_a_fatal_error_is_caught_by_faulthandler_and_reported_next_time(tmp_path: Path) -> None:
    crashed = run_python(
        """
        import ctypes
        from pathlib import Path
        from core.crash_reports import CrashGuard
        CrashGuard(Path({log_dir!r})).install()
        ctypes.string_at(0)  # a segfault, as a crash in Qt or VTK would be
        """,
        tmp_path,
    )
    assert crashed.returncode != 0
    assert unseen_reports(tmp_path) == []  # nothing could run after the fault itself

    guard = CrashGuard(tmp_path).install()  # the next start
    try:
        reports = unseen_reports(tmp_path)
    finally:
        guard.uninstall()
    assert len(reports) == 1
    assert "Segmentation fault" in reports[0].text and "string_at" in reports[0].text
    assert collect_fault_log(tmp_path) is None  # turned into a report once, not twice


def test_a_thread_exception_goes_to_the_handler_when_a_person_can_see_it(
    tmp_path: Path,
) -> None:
    shown: list[tuple[str, str]] = []
    showing = True

    def handler(summary: str, details: str) -> bool:
        shown.append((summary, details))
        return showing

    def boom() -> None:
        raise ValueError("no such printer")

    guard = CrashGuard(tmp_path, handler).install()
    try:
        worker = threading.Thread(target=boom, name="live-updates")
        worker.start()
        worker.join()
        assert shown[0][0] == "ValueError: no such printer" and "in boom" in shown[0][1]
        assert unseen_reports(tmp_path) == []

        showing = False  # no window to show it in: a report instead
        worker = threading.Thread(target=boom, name="live-updates")
        worker.start()
        worker.join()
    finally:
        guard.uninstall()
    reports = unseen_reports(tmp_path)
    assert len(reports) == 1 and "where: thread live-updates" in reports[0].text


def test_logs_rotate_by_size_in_the_log_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PRINTDESK_LOG_DIR", str(tmp_path / "logs"))
    config = AppConfig()
    assert config.log_dir == tmp_path / "logs"
    path = configure_logging(config, "cli", console_level=None, max_bytes=2000, backups=2)
    try:
        assert path == tmp_path / "logs" / "cli.log"
        for n in range(200):
            logging.getLogger("core.backup").info("backup.written n=%d path=/x", n)
        configure_logging(config, "cli", console_level=None, max_bytes=2000, backups=2)
    finally:
        remove_logging()
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == ["cli.log", "cli.log.1", "cli.log.2"]
    assert all(p.stat().st_size <= 2000 for p in (tmp_path / "logs").iterdir())
    last = (tmp_path / "logs" / "cli.log").read_text().strip().splitlines()[-1]
    assert last.endswith("INFO core.backup backup.written n=199 path=/x")
    assert not [h for h in logging.getLogger().handlers if hasattr(h, "_printdesk_log_file")]
