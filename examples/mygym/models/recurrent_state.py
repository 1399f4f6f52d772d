"""The recurrent state of a model as one flat vector, and back.

A network declares its cell and the cell's state layout
(:class:`networks.Structure`: ``c``, ``h`` for Chainer's ``L.LSTM``, ``h``
for the GRU); the flat state is those parts concatenated, float32
``(parts * units,)``. A state that has not been set yet (episode start)
reads as zeros, which both cells treat exactly as no state. Feed-forward
models have no state: :func:`snapshot` returns None.
"""
import chainer
import numpy as np

from models.networks import SuiteNetwork


def _cell(model):
    """``(link, layout)`` of the model's declared cell, or None (also for
    a model that declares nothing: it keeps no state the suite knows)."""
    if not isinstance(model, SuiteNetwork):
        return None
    st = model.structure
    return (st.cell_link, st.state_layout) if st.cell else None


def _parts(link, layout):
    """The cell's state parts as stored on the link (None: not set)."""
    return [getattr(link, name) for name in layout]


def snapshot(model):
    """The state for batch row 0 as a flat float32 vector, or None."""
    cell = _cell(model)
    if cell is None:
        return None
    link, layout = cell
    return np.concatenate([
        np.zeros(link.state_size, dtype=np.float32) if var is None
        else np.asarray(var.array[0], dtype=np.float32)
        for var in _parts(link, layout)])


def restore(model, state, batch_size=1):
    """Set the model's state to ``state`` repeated over ``batch_size`` rows.

    ``state`` None is the zero state (an episode's start) for a recurrent
    model, whatever state it held before; a feed-forward model has no
    state and is left alone.
    """
    cell = _cell(model)
    if cell is None:
        return
    link, layout = cell
    if state is None:
        link.reset_state()
        return
    expected = len(layout) * link.state_size
    if np.ndim(state) != 1 or len(state) != expected:
        # Refused before anything changes: the model keeps its state.
        raise ValueError('state has shape {}, the model needs ({},)'.format(
            np.shape(state), expected))
    parts = [chainer.Variable(np.repeat(row[None], batch_size, axis=0))
             for row in np.split(np.asarray(state, np.float32),
                                 len(layout))]
    link.set_state(*parts)


def state_size(model):
    """Length of the model's flat state (0: feed-forward)."""
    return model.structure.state_size if isinstance(model, SuiteNetwork) \
        else 0


def steps_one_lstm(model):
    """Whether ``model``'s cell is an LSTM (the batched update runs its
    segment as one function: ``features`` -> LSTM -> ``heads``)."""
    cell = _cell(model)
    return cell is not None and model.structure.cell == 'lstm'
