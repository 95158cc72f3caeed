"""Per-task view of a continual-learning trial, read from its stored metrics (no evaluator needed)."""

from __future__ import annotations

from typing import Any, Mapping


def task_table(metrics: Mapping[str, Any]) -> list[dict[str, float]] | None:
    """Rows per task: accuracy on the seen classes after it (valid / test) and the task's final
    accuracy (valid / test); None when the metrics are not from the ``continual`` evaluator."""
    if "incremental_accuracy_0" not in metrics:
        return None
    rows = []
    t = 0
    while f"incremental_accuracy_{t}" in metrics:
        rows.append({
            "task": t,
            "valid_seen_accuracy": metrics.get(f"valid_incremental_accuracy_{t}", float("nan")),
            "test_seen_accuracy": metrics[f"incremental_accuracy_{t}"],
            "valid_final_task_accuracy": metrics.get(f"valid_task_accuracy_{t}", float("nan")),
            "test_final_task_accuracy": metrics.get(f"task_accuracy_{t}", float("nan")),
        })
        t += 1
    return rows


def print_task_table(console: Any, metrics: Mapping[str, Any], title: str) -> None:
    """Print :func:`task_table` with rich, plus the stream summary, if the metrics have one."""
    rows = task_table(metrics)
    if rows is None:
        return
    from rich.table import Table

    summary = ", ".join(f"{k}={metrics[k]:.4g}" for k in (
        "avg_incremental_accuracy", "forgetting", "final_accuracy", "train_flops_m") if k in metrics)
    table = Table(title=f"{title}: per task ({summary})")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(str(row["task"]), *[f"{v:.2f}" for k, v in row.items() if k != "task"])
    console.print(table)
