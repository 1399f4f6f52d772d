"""The Nature CNN's arrays, as every library's names map onto the suite's
``NatureAC``, ``NatureAC2`` and ``NatureQ`` networks (``model.npz``
names: ``0/k/W`` the body, ``1/W`` the policy or Q head, ``2/W`` the
value head)."""
import numpy as np


def body_shapes(prefix, names, channels=None):
    """Shapes of one Nature body whose arrays are ``prefix + names[k] +
    '.weight'`` / ``'.bias'`` (``names``: the three convolutions and the
    linear layer); ``channels`` None: read from the file."""
    c1, c2, c3, fc = names
    return {prefix + c1 + '.weight': (32, channels, 8, 8),
            prefix + c1 + '.bias': (32,),
            prefix + c2 + '.weight': (64, 32, 4, 4),
            prefix + c2 + '.bias': (64,),
            prefix + c3 + '.weight': (64, 64, 3, 3),
            prefix + c3 + '.bias': (64,),
            prefix + fc + '.weight': (512, 3136),
            prefix + fc + '.bias': (512,)}


def body(s, prefix, names):
    """One body's arrays, ``[(W, b)]`` of its four layers."""
    return [(s[prefix + n + '.weight'], s[prefix + n + '.bias'])
            for n in names]


def arrays(layers, policy, value=None):
    """The suite's arrays of one body ``layers``, the policy (or Q) head
    ``(W, b)`` and the value head (None for a Q-network)."""
    out = {}
    for k, (w, b) in enumerate(layers):
        out['0/{}/W'.format(k)], out['0/{}/b'.format(k)] = w, b
    out['1/W'], out['1/b'] = policy
    if value is not None:
        out['2/W'], out['2/b'] = value
    return out


def two_towers(actor, critic, policy, value):
    """``NatureAC2``'s arrays from an actor's and a critic's bodies: the
    first convolution's filters side by side, the later ones stacked for
    grouped convolutions, the linear layer block-diagonal, each head
    reading its own tower's 512 features (zeros for the other's)."""
    out = {}
    for k in range(3):
        out['0/{}/W'.format(k)] = np.concatenate([actor[k][0], critic[k][0]])
        out['0/{}/b'.format(k)] = np.concatenate([actor[k][1], critic[k][1]])
    w_pi, w_vf = actor[3][0], critic[3][0]
    dense = np.zeros((1024, 6272), np.float32)
    dense[:512, :3136], dense[512:, 3136:] = w_pi, w_vf
    out['0/3/W'] = dense
    out['0/3/b'] = np.concatenate([actor[3][1], critic[3][1]])
    zeros = np.zeros_like(policy[0])
    out['1/W'] = np.concatenate([policy[0], zeros], axis=1)
    out['1/b'] = policy[1]
    out['2/W'] = np.concatenate([np.zeros_like(value[0]), value[0]], axis=1)
    out['2/b'] = value[1]
    return out
