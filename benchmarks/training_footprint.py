"""Footprint of the README's main job (`nasforge search --config examples/digits.yaml`): peak memory
of the whole process tree (the CLI process plus its spawned worker processes) and the time from
process start to the first trained candidate, with 1 and with 2 workers.

Each figure comes from one real CLI process per worker count, run with a shortened budget
(``--trials``, default 10; everything else as in the YAML). Memory is sampled with psutil every
``--interval`` seconds over the process tree: the sum of RSS (counts shared library pages once per
process, so it over-states the real use -- this is the figure the 1.5 GB target is checked against)
and the sum of PSS (shared pages split between the processes that map them; sampled less often since
reading smaps is slower). The first trained candidate is the first COMPLETE trial in the SQLite store,
polled as benchmarks/footprint.py does for NB201.

    python benchmarks/training_footprint.py                 # trials 10, workers 1 and 2
    python benchmarks/training_footprint.py --trials 4 --workers 2
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from _common import print_table, uptime, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "digits.yaml"
TARGET_MB = 1536


def tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_memory(procs: list[psutil.Process], pss: bool) -> tuple[int, int, int]:
    """(sum RSS, sum PSS or 0, number of live processes) over ``procs``."""
    rss = pss_sum = alive = 0
    for p in procs:
        try:
            if pss:
                info = p.memory_full_info()
                pss_sum += getattr(info, "pss", 0)
            else:
                info = p.memory_info()
            rss += info.rss
            alive += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return rss, pss_sum, alive


def complete_trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state='COMPLETE'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # table not created yet, or locked for a moment
        return 0


def run(workers: int, trials: int, folder: Path, interval: float, pss_every: float) -> dict[str, Any]:
    """One CLI search; sample the process tree until it exits."""
    db = folder / f"footprint-w{workers}.db"
    cmd = [sys.executable, "-m", "nasforge", "search", "--config", str(CONFIG), "--trials", str(trials),
           "--workers", str(workers), "--storage", str(db), "--name", f"footprint-w{workers}"]  # fmt: skip
    start = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = peak_main = 0
    max_procs = 0
    first = None
    last_pss = -1e9
    try:
        while proc.poll() is None:
            now = time.perf_counter()
            procs = tree(proc)
            want_pss = now - last_pss >= pss_every
            rss, pss, alive = tree_memory(procs, want_pss)
            if want_pss:
                last_pss = now
                peak_pss = max(peak_pss, pss)
            peak_rss = max(peak_rss, rss)
            max_procs = max(max_procs, alive)
            try:
                peak_main = max(peak_main, proc.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
            if first is None and complete_trials(db):
                first = time.perf_counter() - start
            time.sleep(interval)
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.wait()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"search exited with {proc.returncode}: {stderr[-2000:]}")
    return {"workers": workers, "trials": trials, "complete": complete_trials(db),
            "peak_rss_tree_mb": peak_rss / 2**20, "peak_pss_tree_mb": peak_pss / 2**20,
            "peak_rss_main_mb": peak_main / 2**20, "max_processes": max_procs,
            "first_complete_s": first, "wall_s": wall}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10, help="shortened budget (trials per run)")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--interval", type=float, default=0.05, help="RSS sampling period (s)")
    parser.add_argument("--pss-every", type=float, default=0.5, help="PSS sampling period (s)")
    args = parser.parse_args()
    load_before = uptime()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            runs.append(run(w, args.trials, Path(tmp), args.interval, args.pss_every))
            print(f"workers {w}: {runs[-1]}", flush=True)
    rows = []
    for r in runs:
        rows.append([r["workers"], r["peak_rss_tree_mb"], r["peak_pss_tree_mb"], r["peak_rss_main_mb"],
                     r["max_processes"], r["first_complete_s"], r["wall_s"], r["complete"],
                     "yes" if r["peak_rss_tree_mb"] < TARGET_MB else "no"])  # fmt: skip
    print(f"\nnasforge search --config examples/digits.yaml --trials {args.trials} (seed 0, digits from "
          f"sklearn); memory over the process tree; target peak RSS < {TARGET_MB} MB")  # fmt: skip
    print_table(["workers", "peak RSS sum (MB)", "peak PSS sum (MB)", "main RSS (MB)", "processes",
                 "start -> 1st trained (s)", "wall (s)", "complete", "< 1.5 GB"], rows)  # fmt: skip
    write_json("training_footprint", {
        "command": f"nasforge search --config examples/digits.yaml --trials {args.trials} --workers W",
        "budget_note": f"shortened budget: {args.trials} trials instead of the config's 100",
        "sampling": {"rss_interval_s": args.interval, "pss_interval_s": args.pss_every,
                     "scope": "CLI process + all descendants (spawned workers)"},
        "target_peak_rss_mb": TARGET_MB, "load_before": load_before, "load_after": uptime(),
        "cpus": os.cpu_count(), "runs": runs})  # fmt: skip


if __name__ == "__main__":
    main()
