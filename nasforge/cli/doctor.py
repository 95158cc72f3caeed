"""`nasforge doctor`: what this machine (and a Ray cluster) offers a study, in a few seconds.

Prints versions (Python, nasforge, torch, each optional extra present or missing), the devices
torch sees here and what ``device: auto`` resolves to, the nodes / CPUs / GPUs of a Ray cluster
given with ``--address`` (an unreachable address is one ``FAIL`` line after ``--timeout`` seconds,
not a hang), and whether the data folder is readable. Exit code 1 when a check fails.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

#: optional extra -> (import name, distribution) of the modules it brings (pyproject.toml)
EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "torch": (("torch", "torch"), ("sklearn", "scikit-learn"), ("mnist1d", "mnist1d")),
    "mo": (("pymoo", "pymoo"),),
    "bo": (("grakel", "grakel"),),
    "ray": (("ray", "ray"),),
    "report": (("plotly", "plotly"),),
    "dashboard": (("starlette", "starlette"), ("uvicorn", "uvicorn")),
    "tensorboard": (("tensorboard", "tensorboard"),),
    "mlflow": (("mlflow", "mlflow-skinny"),),
    "data": (("PIL", "pillow"), ("pandas", "pandas")),
    "bench": (("optuna", "optuna"), ("psutil", "psutil")),
    "docs": (("mkdocs", "mkdocs"), ("material", "mkdocs-material")),
}


def doctor(
    address: str | None = typer.Option(
        None, "--address", help="a Ray cluster to inspect: 'auto', 'host:port' or 'ray://host:port'"
    ),
    data: Path | None = typer.Option(
        None, "--data", help="data folder to check (default: $NASFORGE_DATA, else ../shared/data)"
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="seconds to wait for the Ray cluster"),
) -> None:
    """Print versions, devices (local and on a Ray cluster) and whether the data folder is readable."""
    failures = 0
    for line in versions():
        typer.echo(line)
    for line in local_devices():
        typer.echo(line)
    if address is not None:
        lines, ok = ray_cluster(address, timeout)
        failures += not ok
        for line in lines:
            typer.echo(line)
    line, ok = data_folder(data)
    failures += not ok
    typer.echo(line)
    if failures:
        raise typer.Exit(1)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions() -> list[str]:
    """One line for the interpreter and nasforge, one per optional extra (present or missing)."""
    from .. import __version__

    lines = [f"python     {platform.python_version()} ({platform.system()} {platform.machine()})",
             f"nasforge   {__version__}"]
    for extra, modules in EXTRAS.items():
        found = []
        missing = []
        for module, distribution in modules:
            version = _version(distribution) if importlib.util.find_spec(module) else None
            (found if version else missing).append(f"{distribution} {version}" if version else distribution)
        state = "ok     " if not missing else "missing"
        detail = ", ".join(found + [f"{m} not installed" for m in missing])
        lines.append(f"extra {extra:<11} {state} {detail}")
    return lines


def local_devices() -> list[str]:
    """CPUs, CUDA GPUs (names, memory), MPS, and what ``device: auto`` picks in this process."""
    lines = [f"cpu        {os.cpu_count()} logical cores"]
    if importlib.util.find_spec("torch") is None:
        return lines + ["torch      not installed: pip install 'nasforge[torch]' to train"]
    import torch

    from ..training.devices import resolve_device

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            lines.append(f"cuda:{i}     {props.name}, {props.total_memory / 2**30:.1f} GiB")
    else:
        lines.append("cuda       none visible" + ("" if visible is None else f" (CUDA_VISIBLE_DEVICES={visible!r})"))
    mps = getattr(torch.backends, "mps", None)
    lines.append(f"mps        {'available' if mps is not None and mps.is_available() else 'not available'}")
    lines.append(f"auto       -> {resolve_device('auto')} (device: auto on this machine)")
    return lines


def ray_cluster(address: str, timeout: float) -> tuple[list[str], bool]:
    """Nodes, CPUs and GPUs of the cluster at ``address``; a FAIL line when it does not answer."""
    if importlib.util.find_spec("ray") is None:
        return ["FAIL ray: not installed (pip install 'nasforge[ray]')"], False
    if address != "auto":
        from ..study.ray_executor import _host_port

        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            return [f"FAIL ray: no cluster answers at {address!r} within {timeout:g} s ({exc.strerror or exc})"], False
    import ray

    def connect() -> Any:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        return ray.nodes()

    try:
        nodes = _within(connect, timeout)
    except TimeoutError:
        return [f"FAIL ray: {address!r} accepted a connection but Ray did not answer within {timeout:g} s"], False
    except Exception as exc:  # noqa: BLE001 - any connection error is the one line the user needs
        text = str(exc).strip().splitlines()
        return [f"FAIL ray: cannot connect to {address!r}: {text[0] if text else type(exc).__name__}"], False
    try:
        alive = [n for n in nodes if n.get("Alive")]
        head = f"ray        {address}: {len(alive)} node(s) alive, {len(nodes) - len(alive)} dead"
        lines = [f"{head}, ray {ray.__version__}"]
        for node in alive:
            res = node.get("Resources", {})
            lines.append(f"  node {node.get('NodeManagerAddress', '?'):<15} CPU {res.get('CPU', 0):g}, "
                         f"GPU {res.get('GPU', 0):g}")
        return lines, bool(alive)
    finally:
        ray.shutdown()


def _within(call: Callable[[], Any], timeout: float) -> Any:
    """``call()`` in a daemon thread; TimeoutError when it has not returned after ``timeout`` s."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["value"]


def data_folder(explicit: Path | None) -> tuple[str, bool]:
    """Whether the data folder (--data, $NASFORGE_DATA, ../shared/data) exists and can be listed."""
    from ..errors import DataError
    from ..paths import data_dir

    try:
        folder = data_dir(explicit)
    except DataError as exc:
        return f"FAIL data: {exc}", False
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        return f"FAIL data: {folder} is not readable ({exc.strerror or exc})", False
    if not os.access(folder, os.R_OK | os.X_OK):
        return f"FAIL data: {folder} is not readable", False
    shown = ", ".join(entries[:8]) + (" ..." if len(entries) > 8 else "")
    return f"data       {folder}: readable, {len(entries)} entries ({shown or 'empty'})", True
