"""Metric sources beyond what evaluators measure: bit cost of weights (BOO), user metric tables.

Submodules are imported on demand: :mod:`.boo` needs torch, :mod:`.metric_table` does not.
"""
