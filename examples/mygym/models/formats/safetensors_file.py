"""``safetensors``: visualize_atari's or baby-a3c's state dict names in a
``.safetensors`` file (the ``safetensors`` package's NumPy reader, which
runs nothing), into ``--arch LSTM`` or ``--arch GRU`` by its arrays."""
from models.formats import baby_a3c, greydanus
from models.formats.arrays import ImportFailure, strip_prefix
from models.protocol import PRESETS

NAME = 'safetensors'
HELP = ('the LSTM or GRU NNPolicy names in a .safetensors file -> --arch '
        'LSTM or GRU')
PROTOCOL = PRESETS['greydanus']
FILE = 'the same names in a `.safetensors` file'
NETWORK = '`LSTM` or `GRU`, by its arrays'
PROTOCOL_NAME = 'greydanus'
MAGIC_LIMIT = 100 << 20     # the JSON header's length, sanity bound


def recognise(path):
    try:
        with open(path, 'rb') as f:
            head = f.read(9)
    except OSError:
        return False
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], 'little')
    return 0 < size < MAGIC_LIMIT and head[8:9] == b'{'


def _load(path):
    from safetensors.numpy import load_file
    try:
        return strip_prefix(load_file(path))
    except Exception as e:      # the package's own errors, truncation
        raise ImportFailure('cannot read {} as safetensors: {}'.format(
            path, str(e).splitlines()[0] if str(e) else type(e).__name__))


def read(path):
    state = _load(path)
    if any(name.startswith('gru.') for name in state):
        return baby_a3c.convert(state)
    return greydanus.convert(state)
