"""Agents trained elsewhere: the formats' registry seen from one place.

The formats themselves live in :mod:`models.formats`, one module each
(how a file is recognised and read, how its arrays map onto one of the
suite's networks, the protocol its agents were trained with, a line of
help). This module keeps the names the tools and tests import.
"""
from models.formats import (FORMATS, PROTOCOLS, REGISTRY, ImportFailure,
                            recognise)
from models.formats import read as _read
from models.formats.chainerrl_npz import convert as from_chainerrl
from models.formats.greydanus import chainer_gate_order
from models.formats.greydanus import convert as from_greydanus

__all__ = ['FORMATS', 'PROTOCOLS', 'REGISTRY', 'ImportFailure', 'recognise',
           'read_source', 'from_chainerrl', 'from_greydanus',
           'chainer_gate_order']


def read_source(fmt, path):
    """``(arch, n_actions, arrays)`` of the agent file ``path`` in format
    ``fmt`` (:data:`FORMATS`; None: recognised from the file).

    Raises:
        ImportFailure: unreadable, refused (a pickle naming anything but
            tensors) or not the network the format names; one line.
    """
    return _read(fmt or recognise(path), path)
