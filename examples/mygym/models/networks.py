"""What the suite's networks declare about themselves.

Every network in :data:`agents.ARCHS` is a :class:`SuiteNetwork`: callers
ask it what it is (its kind, whether it is recurrent, its input size)
instead of guessing from its attributes, and caches of what is built from
its weights (the ONNX engine's graphs) follow its weights version.
"""


class SuiteNetwork:
    """What a network of the suite says of itself, so no caller guesses.

    Attributes:
        kind (str or None): ``'ff'`` (an ICLR-ACER A3CFF with a softmax
            policy) or ``'lstm'`` (the LSTM-CNN): the networks the ONNX
            engine, guided backpropagation's backward pass and the batched
            update's NumPy layers run; None for a variant they do not (the
            mellowmax policy).
        recurrent (bool): whether it keeps a state between steps.
        input_size (int): side of its square input frames.
        weights_version (int): moved on by :meth:`weights_changed` whenever
            the weights change (a load, a worker's re-sync, randomisation);
            what is built from the weights (the engine's graphs) is rebuilt
            when it moves.
    """

    kind = None
    recurrent = False
    input_size = None
    weights_version = 0

    def weights_changed(self):
        """Say that the weights changed (in place or replaced)."""
        self.weights_version += 1


def weights_changed(model):
    """:meth:`SuiteNetwork.weights_changed` of ``model``, if it has one."""
    if isinstance(model, SuiteNetwork):
        model.weights_changed()
