"""`nasforge doctor`: real versions, devices, an unreachable Ray address and data folders."""

from __future__ import annotations

import os
import socket
import time

import pytest
import torch

from nasforge.cli.app import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_versions_devices_and_a_readable_data_folder(tmp_path, capsys) -> None:
    (tmp_path / "nb201").mkdir()
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"torch {torch.__version__}" in out
    assert "extra torch       ok" in out and "extra docs" in out
    assert f"cpu        {os.cpu_count()} logical cores" in out
    expected = "cuda:0" if torch.cuda.is_available() else "cuda       none visible"
    assert expected in out
    assert "auto       -> " in out
    assert f"data       {tmp_path}: readable, 1 entries (nb201)" in out


def test_missing_data_folder_fails_with_one_line(tmp_path, capsys) -> None:
    assert main(["doctor", "--data", str(tmp_path / "absent")]) == 1
    out = capsys.readouterr().out
    assert f"FAIL data: benchmark data folder not found (tried {tmp_path / 'absent'} (--data))" in out


def test_data_folder_from_the_environment(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NASFORGE_DATA", str(tmp_path))
    assert main(["doctor"]) == 0
    assert f"data       {tmp_path}: readable, 0 entries (empty)" in capsys.readouterr().out


def test_unreachable_ray_cluster_is_one_line_within_seconds(tmp_path, capsys) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed")
    port = _free_port()
    started = time.perf_counter()
    code = main(["doctor", "--address", f"127.0.0.1:{port}", "--timeout", "2", "--data", str(tmp_path)])
    assert time.perf_counter() - started < 10
    assert code == 1
    out = capsys.readouterr().out
    assert f"FAIL ray: no cluster answers at '127.0.0.1:{port}' within 2 s" in out
    assert "data       " in out  # the other checks still ran


def test_bad_address_spelling_is_a_config_error(capsys) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed")
    assert main(["doctor", "--address", "nowhere"]) == 2
    assert "must be 'auto', 'host:port' or 'ray://host:port', got 'nowhere'" in capsys.readouterr().err
