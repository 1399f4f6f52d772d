"""The A3C agent of this suite.

:class:`SaliencyA3C` is ChainerRL's A3C with crash-safe, self-describing
checkpoints (:mod:`checkpoint`). Training and evaluation act exactly as A3C.
"""
import chainerrl_compat  # noqa: F401
from chainerrl.agents import a3c

from checkpoint import AtomicCheckpointMixin


class SaliencyA3C(AtomicCheckpointMixin, a3c.A3C):
    """A3C whose checkpoints are atomic and carry ``checkpoint.json``."""
