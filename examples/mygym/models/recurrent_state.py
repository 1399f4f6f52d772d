"""The recurrent state of a model as one flat vector, and back.

A model's state is the ``c`` and ``h`` of each of its ``chainer.links.LSTM``
links, concatenated into a float32 vector ``(sum of 2 * state size,)``. A
state that has not been set yet (episode start) reads as zeros, which the
LSTM treats exactly as no state (its lateral link has no bias). Feed-forward
models have no state: :func:`snapshot` returns None.
"""
import chainer
import numpy as np


def lstm_links(model):
    """The model's ``chainer.links.LSTM`` links, in a fixed order."""
    return [link for link in model.links(skipself=True)
            if isinstance(link, chainer.links.LSTM)]


def snapshot(model):
    """The state for batch row 0 as a flat float32 vector, or None."""
    links = lstm_links(model)
    if not links:
        return None
    parts = []
    for link in links:
        for var in (link.c, link.h):
            parts.append(np.zeros(link.state_size, dtype=np.float32)
                         if var is None else
                         np.asarray(var.array[0], dtype=np.float32))
    return np.concatenate(parts)


def restore(model, state, batch_size=1):
    """Set the model's state to ``state`` repeated over ``batch_size`` rows.

    ``state`` None is the zero state (an episode's start) for a recurrent
    model, whatever state it held before; a feed-forward model has no
    state and is left alone.
    """
    links = lstm_links(model)
    if state is None:
        for link in links:
            link.reset_state()
        return
    expected = sum(2 * link.state_size for link in links)
    if np.ndim(state) != 1 or len(state) != expected:
        # Refused before anything changes: the model keeps its state.
        raise ValueError('state has shape {}, the model needs ({},)'.format(
            np.shape(state), expected))
    offset = 0
    for link in links:
        c, h = [], []
        for target in (c, h):
            row = state[offset:offset + link.state_size]
            offset += link.state_size
            target.append(np.repeat(row[None], batch_size, axis=0))
        link.set_state(chainer.Variable(c[0]), chainer.Variable(h[0]))


def steps_one_lstm(model):
    """Whether ``model`` is ``features`` -> one LSTM ``lstm`` -> ``heads``.
    """
    return (isinstance(getattr(model, 'lstm', None), chainer.links.LSTM)
            and callable(getattr(model, 'features', None))
            and callable(getattr(model, 'heads', None)))
