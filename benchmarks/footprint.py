"""Footprint of `nasforge search` on NB201: time to the first finished trial, peak RSS of a
300-trial study, and store size per 1,000 trials. Each figure comes from a real CLI process.

    python benchmarks/footprint.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _common import print_table, write_json


def _cli(args: list[str], cwd: Path) -> list[str]:
    return [sys.executable, "-m", "nasforge", "search", "--space", "nb201", "--strategy",
            "evolution", "--dataset", "cifar10", *args]  # fmt: skip


def first_trial_seconds(data: str, folder: Path) -> float:
    """Wall time from process start until the store holds one finished trial."""
    db = folder / "first.db"
    start = time.perf_counter()
    proc = subprocess.Popen(_cli(["--trials", "100000", "--storage", str(db), "--data", data], folder),
                            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            if db.exists():
                try:
                    con = sqlite3.connect(db)
                    n = con.execute("SELECT COUNT(*) FROM trials WHERE state='COMPLETE'").fetchone()[0]
                    con.close()
                    if n:
                        return time.perf_counter() - start
                except sqlite3.OperationalError:
                    pass
            if proc.poll() is not None:
                raise RuntimeError("search exited before a trial finished")
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait()


def peak_rss_mb(data: str, folder: Path, trials: int) -> tuple[float, float]:
    """Peak RSS (sampled every 10 ms, plus the kernel's ru_maxrss) and wall time of a full study."""
    start = time.perf_counter()
    proc = psutil.Popen(_cli(["--trials", str(trials), "--storage", str(folder / "rss.db"),
                              "--data", data], folder),
                        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    wall = time.perf_counter() - start
    assert proc.returncode == 0
    import resource

    maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(peak / 2**20, maxrss_kb / 1024), wall


def store_kb_per_1000(data: str, folder: Path, trials: int) -> float:
    db = folder / "size.db"
    subprocess.run(_cli(["--trials", str(trials), "--storage", str(db), "--data", data], folder),
                   cwd=folder, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = db.stat().st_size + sum(p.stat().st_size for p in folder.glob("size.db-*"))
    return size / 1024 * 1000 / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--size-trials", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        firsts = []
        for i in range(args.repeats):
            sub = folder / f"r{i}"
            sub.mkdir()
            firsts.append(first_trial_seconds(args.data, sub))
        rss, wall = peak_rss_mb(args.data, folder, args.trials)
        kb = store_kb_per_1000(args.data, folder, args.size_trials)
    rows = [
        ["start -> first finished trial (s), median of runs", sorted(firsts)[len(firsts) // 2], "< 2"],
        [f"peak RSS, {args.trials}-trial NB201 study (MB)", rss, "< 400"],
        [f"wall time, {args.trials}-trial study incl. start (s)", wall, "-"],
        ["store size per 1,000 trials (KB)", kb, "-"],
    ]
    print(f"nasforge search --space nb201 --strategy evolution --dataset cifar10 (seed 0), "
          f"data {args.data}/nb201")  # fmt: skip
    print_table(["figure", "value", "target"], rows)
    write_json("footprint", {"first_trial_s": firsts, "peak_rss_mb": rss, "study_wall_s": wall,
                             "store_kb_per_1000_trials": kb, "trials": args.trials,
                             "data": "nb201/nb201_accuracy.csv.gz + nb201_hardware.csv.gz"})  # fmt: skip


if __name__ == "__main__":
    main()
