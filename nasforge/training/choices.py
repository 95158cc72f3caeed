"""The optimiser and schedule names every layer accepts (spaces, the trainer, training/optim).

Kept torch-free so search spaces and evaluator constructors can validate names without torch.
"""

OPTIMIZERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("cosine", "constant")
