"""Agent file formats of other code bases, one module a format.

Each module declares:

* ``NAME`` (what ``import_agent.py`` takes as ``FORMAT``) and ``HELP``
  (one line: the file, the network it becomes);
* ``ARCH``: the suite's network its agents load into (``--arch``), or a
  callable of the arrays read for a format that holds several;
* ``PROTOCOL``: how its agents saw the game (:mod:`models.protocol`),
  written into ``checkpoint.json``, and ``PROTOCOL_NAME``, its name in
  :data:`models.protocol.PRESETS`;
* ``FILE`` and ``NETWORK``: the file and the network, for the README's
  table (:func:`markdown_table`);
* ``recognise(path) -> bool``: a cheap look at the file (a few bytes, an
  archive's member names, a state dict's names) that never runs anything;
* ``read(path) -> (arch, n_actions, arrays)``: the arrays named as in the
  suite's ``model.npz``, checked name by name and shape by shape.

:data:`REGISTRY` lists them in the order :func:`recognise` tries them;
``import_agent.py``'s help and the README's table are made from it.
"""
from models.formats import (baby_a3c, chainerrl_npz, cleanrl, greydanus,
                            pfrl, safetensors_file, sb3)
from models.formats.arrays import ImportFailure, strip_prefix

REGISTRY = {module.NAME: module for module in (
    baby_a3c, greydanus, safetensors_file, chainerrl_npz, sb3, cleanrl,
    pfrl)}
FORMATS = tuple(REGISTRY)
PROTOCOLS = {name: module.PROTOCOL for name, module in REGISTRY.items()}

__all__ = ['REGISTRY', 'FORMATS', 'PROTOCOLS', 'ImportFailure', 'recognise',
           'read', 'strip_prefix']


def recognise(path):
    """The name of the format of the file ``path``.

    Raises:
        ImportFailure: no format recognises it (one line).
    """
    for name, module in REGISTRY.items():
        if module.recognise(path):
            return name
    raise ImportFailure('{} is none of the formats {} (give FORMAT to see '
                        'why)'.format(path, ', '.join(FORMATS)))


def read(fmt, path):
    """``(arch, n_actions, arrays)`` of the agent file ``path`` in format
    ``fmt``.

    Raises:
        ImportFailure: unknown format, unreadable or refused file, or not
            the network the format names (one line, naming the arrays the
            file holds when they do not fit).
    """
    if fmt not in REGISTRY:
        raise ImportFailure('unknown format {!r}; choose from {}'.format(
            fmt, ', '.join(FORMATS)))
    return REGISTRY[fmt].read(path)


def markdown_table():
    """The README's table of formats (``import_agent.py --formats``)."""
    lines = ['| format | file | network (`--arch`) | protocol |',
             '|---|---|---|---|']
    for name, module in REGISTRY.items():
        lines.append('| `{}` | {} | {} | `{}` |'.format(
            name, module.FILE, module.NETWORK, module.PROTOCOL_NAME))
    return '\n'.join(lines)
