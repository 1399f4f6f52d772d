"""The networks, their optimizers, checkpoints and recurrent state.

``networks`` (the networks of ``--arch``, what each declares about itself,
``phi``), ``optimizers`` (the shared RMSprop and Adam), ``checkpoint``
(folders read and written without pickle), ``recurrent_state`` (an LSTM's
state as one vector). The agents built on them are :mod:`agents`'.
"""
