"""The networks, the agents built on them, their optimizers and checkpoints.

``networks`` (what a network declares about itself), ``agents`` (the
architectures of ``--arch`` and the A3C agents built and loaded from them),
``optimizers`` (the shared RMSprop and Adam), ``checkpoint`` (folders read
and written without pickle), ``recurrent_state`` (an LSTM's state as one
vector).
"""
