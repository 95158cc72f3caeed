"""Torch-only training helpers the trainer evaluator and export share.

``loop`` trains and scores a model on pre-made tensors, ``optim`` builds optimisers from hyper-
parameters, ``seeding`` scopes RNG and thread settings to one trial, ``measure`` counts params /
FLOPs and times latency. Nothing light imports this package.
"""
