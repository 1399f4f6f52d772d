"""Make ChainerRL 0.8.0 work on Python >= 3.10 with today's packages.

Import this module before ``chainerrl``:

* ``chainerrl/recurrent.py`` tests ``isinstance(state, collections.Iterable)``;
  the alias was removed in Python 3.10, so every recurrent (LSTM) A3C worker
  crashed with an AttributeError. We restore the alias from
  ``collections.abc``, the class it always pointed to.
* ``chainerrl`` imports the old ``gym`` package (for ``gym.wrappers.Monitor``
  only), which prints a three-line "upgrade to Gymnasium" banner on stderr at
  import. This project already runs its games on gymnasium, so the banner is
  swallowed.
"""
import collections
import collections.abc
import contextlib
import io

for _name in ('Iterable', 'Mapping', 'MutableMapping', 'Sequence',
              'Callable'):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

with contextlib.redirect_stderr(io.StringIO()):
    import gym  # noqa: F401,E402
