"""Architecture reduction: find a much smaller variant of a trained CNN with the same accuracy.

The search runs as an ordinary study over :class:`~nasforge.spaces.reduction.ReductionSpace`
(strategies ``greedy_shrink``, ``reinforce``, ``nsga2``, ``evolution``); :mod:`.pipeline` adds the
steps around it (train the base, pick, retrain from scratch, pruning baselines, report) and
:mod:`.pruning` holds the baselines. Nothing here is imported by ``import nasforge``.
"""
