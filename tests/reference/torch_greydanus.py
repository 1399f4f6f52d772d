"""Check import_agent.py's ``greydanus`` format against PyTorch itself.

Not part of the test run (PyTorch is not a dependency of the suite). With
a Python that has ``torch`` (any venv: ``pip install torch numpy``)::

    TORCH_PYTHON=/path/to/torch-venv/bin/python \\
        .venv/bin/python tests/reference/torch_greydanus.py /tmp/check

1. in the torch Python: builds visualize_atari's ``NNPolicy`` (random
   weights, seed 0) and saves its state dict with ``torch.save`` in the zip
   format and in the legacy one;
2. here: imports both with ``import_agent.py``, plays 200 steps of
   Breakout with the imported agent under its recorded input protocol and
   records every observation, with the agent's logits, value and LSTM
   state;
3. in the torch Python: runs the PyTorch network on the same observations
   from the same starting state;
4. here: prints the largest differences and exits 1 if any exceeds 1e-5.
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'examples', 'mygym'))

TORCH_SIDE = r'''
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class NNPolicy(nn.Module):
    def __init__(self, channels, num_actions):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.conv4 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.lstm = nn.LSTMCell(32 * 5 * 5, 256)
        self.critic_linear = nn.Linear(256, 1)
        self.actor_linear = nn.Linear(256, num_actions)

    def forward(self, x, hx, cx):
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = F.elu(conv(x))
        hx, cx = self.lstm(x.view(-1, 800), (hx, cx))
        return self.critic_linear(hx), self.actor_linear(hx), hx, cx


mode, folder = sys.argv[1], sys.argv[2]
if mode == 'save':
    torch.manual_seed(0)
    model = NNPolicy(1, 4)
    torch.save(model.state_dict(), folder + '/zip.tar')
    torch.save(model.state_dict(), folder + '/legacy.tar',
               _use_new_zipfile_serialization=False)
else:
    model = NNPolicy(1, 4)
    model.load_state_dict(torch.load(folder + '/' + sys.argv[3] + '.tar'))
    played = np.load(folder + '/played.npz')
    hx = torch.zeros(1, 256)
    cx = torch.zeros(1, 256)
    out = {'logits': [], 'values': [], 'hx': [], 'cx': []}
    with torch.no_grad():
        for obs, reset in zip(played['obs'], played['reset']):
            if reset:
                hx, cx = torch.zeros(1, 256), torch.zeros(1, 256)
            x = torch.from_numpy(obs.astype(np.float32)[None] / 255.0)
            value, logit, hx, cx = model(x, hx, cx)
            out['logits'].append(logit[0].numpy())
            out['values'].append(value[0, 0].item())
            out['hx'].append(hx[0].numpy())
            out['cx'].append(cx[0].numpy())
    np.savez(folder + '/torch.npz', **{k: np.array(v) for k, v in out.items()})
'''


def torch_python(*args):
    python = os.environ.get('TORCH_PYTHON')
    if not python:
        sys.exit('set TORCH_PYTHON to a Python with torch')
    subprocess.run([python, '-c', TORCH_SIDE] + list(args), check=True)


def play(checkpoint, folder, steps=200):
    import chainer
    from agents import environment_for, load_agent
    from models.networks import phi
    agent, info = load_agent(checkpoint)
    env = environment_for(info, 'BreakoutNoFrameskip-v4', seed=0)
    record = {'obs': [], 'reset': [], 'logits': [], 'values': [], 'hx': [],
              'cx': []}
    model = agent.model
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        obs, reset = env.reset(), True
        for _ in range(steps):
            if reset:
                model.reset_state()
            record['obs'].append(obs[-1])
            record['reset'].append(reset)
            pi, v = model.pi_and_v(phi(obs)[None])
            record['logits'].append(pi.logits.array[0])
            record['values'].append(float(v.array[0, 0]))
            record['hx'].append(model.lstm.h.array[0].copy())
            record['cx'].append(model.lstm.c.array[0].copy())
            action = int(np.argmax(pi.logits.array[0]))
            obs, _, done, extra = env.step(action)
            reset = done or extra.get('needs_reset')
    env.close()
    return {k: np.array(v) for k, v in record.items()}


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else '/tmp/torch-check'
    os.makedirs(folder, exist_ok=True)
    torch_python('save', folder)
    import import_agent
    worst = 0.0
    for name in ('zip', 'legacy'):
        out = os.path.join(folder, 'imported-' + name)
        if os.path.isdir(out):
            for f in os.listdir(out):
                os.remove(os.path.join(out, f))
        rc = import_agent.main(['greydanus', os.path.join(folder, name +
                                                          '.tar'),
                                '--env', 'BreakoutNoFrameskip-v4',
                                '--out', out])
        assert rc == 0
        record = play(out, folder)
        np.savez(os.path.join(folder, 'played.npz'), obs=record['obs'],
                 reset=record['reset'])
        torch_python('run', folder, name)
        ref = np.load(os.path.join(folder, 'torch.npz'))
        for key in ('logits', 'values', 'hx', 'cx'):
            diff = float(np.abs(record[key] - ref[key]).max())
            worst = max(worst, diff)
            print('{} format, {} steps: max |{} - PyTorch| = {:.2e}'.format(
                name, len(record['obs']), key, diff))
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == '__main__':
    main()
