"""Asynchronous A3C training: the batched update and the worker processes.

``batched_a3c`` (ChainerRL's A3C with the update written out from what
acting computed), ``runner`` (run folders, workers, resumable training,
checkpoints on schedule), ``memory`` (malloc settings of the workers).
"""
