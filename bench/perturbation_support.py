"""How much of the network a perturbation mask changes (groundwork for
incremental perturbation scoring).

A perturbed input ``K * I + (1 - K) * F`` differs from the frame only where
the mask perturbs and the fill differs from the frame. On ``--frames`` real
frames of the shipped Pong agent's game (random actions, every 20th step),
for each masked method's masks, this prints the share of input pixels that
change (by more than ``tol``: 0 is exact) and the share of each layer's
output positions of the ICLR-ACER head whose receptive field holds one:
conv1 (8x8 stride 4, 20x20), conv2 (4x4 stride 2, 9x9), conv3 (3x3, 7x7).
Those positions are all an exact incremental pass would recompute.

    python bench/perturbation_support.py
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import numpy as np  # noqa: E402

from agents import environment_for, load_agent  # noqa: E402
from models.networks import phi  # noqa: E402
from saliency import make_saliency  # noqa: E402

SHIPPED = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained', 'pong')
# (kernel, stride, output side) of the ICLR-ACER head's convolutions.
LAYERS = [('conv1', 8, 4, 20), ('conv2', 4, 2, 9), ('conv3', 3, 1, 7)]


def grow(changed, kernel, stride, side):
    """Output positions ``(n, side, side)`` whose receptive field in
    ``changed`` ``(n, H, W)`` holds a changed position."""
    out = np.zeros((len(changed), side, side), bool)
    for i in range(side):
        for j in range(side):
            out[:, i, j] = changed[:, stride * i:stride * i + kernel,
                                   stride * j:stride * j + kernel].any(
                                       axis=(1, 2))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=10)
    p.add_argument('--methods', default='greydanus,occlusion')
    args = p.parse_args()
    agent, info = load_agent(SHIPPED)
    env = environment_for(info, seed=0)
    rng = np.random.RandomState(0)
    obs, states = env.reset(), []
    while len(states) < args.frames:
        for _ in range(20):
            obs, _, done, _ = env.step(rng.randint(env.n_actions))
            if done:
                obs = env.reset()
        states.append(phi(obs))
    env.close()
    print('{} frames; share of positions a mask changes, mean over masks '
          'and frames'.format(len(states)))
    print('{:10s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s}'.format(
        'method', 'tol', 'input', *[name for name, *_ in LAYERS]))
    for name in args.methods.split(','):
        method = make_saliency(name, model=agent.model)
        for tol in (0.0, 1e-6, 1e-4):
            shares = []
            for state in states:
                keep, fill = method.masks_and_fill(state)
                keep = np.asarray(keep, np.float32)
                if keep.ndim == 3:
                    keep = keep[:, None]
                delta = np.abs((np.asarray(fill, np.float32) - state)[None]
                               * (1 - keep)).max(axis=1)
                changed = delta > tol
                row = [changed.mean()]
                for _, kernel, stride, side in LAYERS:
                    changed = grow(changed, kernel, stride, side)
                    row.append(changed.mean())
                shares.append(row)
            print('{:10s} {:>7g} '.format(name, tol) + ' '.join(
                '{:7.3f}'.format(v) for v in np.mean(shares, axis=0)))


if __name__ == '__main__':
    main()
