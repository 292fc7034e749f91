"""`printdesk --smoke-test` runs every step for real in its own temp folder and exits 0."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import printdesk

STEPS = ("qt", "database", "window", "3d view", "pdf")


def test_smoke_test_passes_every_step_without_touching_the_shop(tmp_path: Path) -> None:
    data_dir = tmp_path / "shop-data"
    # A configured database that cannot be reached: the smoke test must use its own.
    result = printdesk(
        "--smoke-test",
        db_url="postgresql://smoke:nothing@127.0.0.1:9/unreachable",
        data_dir=data_dir,
        timeout=300,
    )

    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[: len(STEPS)]] == [f"ok   {s}" for s in STEPS]
    assert "offscreen platform" in lines[0]
    assert "written as PDF" in lines[4]
    assert lines[-1].startswith("smoke test passed")
    assert not data_dir.exists()
