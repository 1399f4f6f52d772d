"""One self-contained HTML page to browse an explanation: a demo episode,
an app's frame range or a faithfulness report.

The page (``media/page.html``, inline script and style) holds its data:
the frames' luminance and every method's actor and critic maps, each
compressed with zlib and base64-encoded, decoded by the browser's own
``DecompressionStream``; nothing is fetched, so it opens from disk and can
be mailed. The page draws maps as :mod:`media.render` does (actor green,
critic red over the luminance) and adds a slider, hotkeys, ``#step=N``,
strips of the value, the action probabilities, rewards and entropy, and
bookmarks.

Sizes (``bench/viewer_page.py``): a frame is stored as its change from
the previous one (a few dozen bytes for Pong), a map as ``LEVELS + 1``
levels of its own peak (the peak kept as a float), about 3 kB a map.
"""
import base64
import collections
import html
import json
import os
import zlib

import numpy as np

from common.outputs import written_whole

# A map is stored as round(map / its peak * LEVELS): 64 levels, below what
# an overlay shows apart, and half the bytes of 256.
LEVELS = 63
TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'page.html')


def _blob(array, delta=False):
    """A uint8 array as the page's ``{data, size, delta}`` (``delta``:
    each item along the first axis stored as its change from the
    previous)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    size = int(np.prod(array.shape[1:])) if array.ndim > 1 else 1
    if delta and len(array) > 1:
        stored = array.copy()
        stored[1:] = array[1:] - array[:-1]       # wraps modulo 256
    else:
        stored = array
    return {'data': base64.b64encode(zlib.compress(stored.tobytes(), 9))
            .decode('ascii'), 'size': size, 'delta': bool(delta)}


Quantised = collections.namedtuple('Quantised', 'levels peaks')
Quantised.__doc__ = """Maps already stored as the page stores them
(:func:`quantise`): ``levels`` ``(T, H, W)`` uint8, ``peaks`` floats."""


def quantise(maps):
    """``(levels uint8, peaks)`` of ``(T, H, W)`` maps >= 0: each map over
    its own peak in ``0..LEVELS``."""
    maps = np.asarray(maps, dtype=np.float32)
    peaks = maps.reshape(len(maps), -1).max(axis=1) if len(maps) else \
        np.zeros(0, np.float32)
    safe = np.where(peaks > 0, peaks, 1.0)[:, None, None]
    levels = np.rint(np.clip(maps / safe, 0, 1) * LEVELS).astype(np.uint8)
    return levels, [float(p) for p in peaks]


def entropy(probs):
    """The policy's entropy (nats) per step of ``(T, A)`` probabilities."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    return (-(p * np.log(p)).sum(axis=1)).tolist()


def bookmarks(values=None, probs=None, rewards=None, top=5):
    """The steps a reader jumps to: every reward, and the ``top`` largest
    changes of value and of policy (total variation) between consecutive
    steps, each ``{'step', 'label', 'kind'}``, in step order."""
    marks = []
    if rewards is not None:
        marks += [{'step': int(t), 'label': 'reward {:+g}'.format(r),
                   'kind': 'reward'}
                  for t, r in enumerate(rewards) if r]
    if values is not None and len(values) > 1:
        change = np.abs(np.diff(np.asarray(values, dtype=np.float64)))
        for t in np.argsort(-change, kind='stable')[:top]:
            marks.append({'step': int(t) + 1, 'label': 'value {:+.2f}'
                          .format(values[t + 1] - values[t]),
                          'kind': 'value'})
    if probs is not None and len(probs) > 1:
        p = np.asarray(probs, dtype=np.float64)
        change = 0.5 * np.abs(np.diff(p, axis=0)).sum(axis=1)
        for t in np.argsort(-change, kind='stable')[:top]:
            marks.append({'step': int(t) + 1, 'label': 'policy moved {:.2f}'
                          .format(change[t]), 'kind': 'policy'})
    return sorted(marks, key=lambda m: (m['step'], m['kind']))


def _finite_list(values):
    return [None if v is None or not np.isfinite(v) else float(v)
            for v in values]


def page_data(title, frames, methods, labels=None, subtitle='',
              unit='step', values=None, probs=None, actions=None,
              rewards=None, action_names=None, marks=None, zoom=2,
              stages=None, report_html=None):
    """The page's data object.

    Args:
        frames: ``(T, h, w)`` uint8 luminance the maps are drawn over.
        methods: ``{name: (actor, critic)}``, each ``(T, H, W)`` >= 0;
            for a report, ``{name: (actor, critic, stage_maps)}`` with
            ``stage_maps`` a list (one per ``stages`` entry) of
            ``(actor, critic)`` of the randomised networks.
        labels: the step number shown for each item (default 0..T-1).
        values, probs, actions, rewards: the strips (any may be None).
        marks: bookmarks (default: :func:`bookmarks` of the strips).
    """
    frames = np.asarray(frames, dtype=np.uint8)
    n = len(frames)
    labels = list(range(n)) if labels is None else [int(x) for x in labels]
    first = next(iter(methods.values()))
    data = {'title': title, 'subtitle': subtitle, 'n': n, 'labels': labels,
            'unit': unit, 'frame': list(frames.shape[1:3]),
            'mapsize': list(np.asarray(first[0].levels if isinstance(
                first[0], Quantised) else first[0]).shape[1:3]),
            'levels': LEVELS, 'zoom': zoom, 'methods': list(methods),
            'blobs': {'frames': _blob(frames, delta=True)}, 'peaks': {},
            'bookmarks': marks if marks is not None else bookmarks(
                values, probs, rewards)}

    def store(prefix, pair):
        """The blobs of an (actor, critic) pair; returns their peaks."""
        peaks = {}
        for which, array in zip(('actor', 'critic'), pair):
            levels, peaks[which] = (array if isinstance(array, Quantised)
                                    else quantise(array))
            data['blobs']['{}/{}'.format(prefix, which)] = _blob(levels)
        return peaks

    for name, maps in methods.items():
        data['peaks'][name] = store('maps/' + name, maps[:2])
    if stages:
        data['stages'] = list(stages)
        data['stagePeaks'] = {
            name: [store('stage/{}/{}'.format(name, k), pair)
                   for k, pair in enumerate(maps[2], 1)]
            for name, maps in methods.items()}
    series = {}
    if values is not None:
        series['value'] = _finite_list(values)
    if probs is not None:
        probs = np.asarray(probs, dtype=np.float64)
        series['probs'] = np.round(probs, 4).tolist()
        series['entropy'] = entropy(probs)
        series['actions'] = list(action_names or
                                 map(str, range(probs.shape[1])))
        series['action'] = (None if actions is None
                            else [int(a) for a in actions])
    if rewards is not None:
        series['reward'] = [float(r) for r in rewards]
    data['series'] = series or None
    if report_html is not None:
        data['report'] = {'html': report_html}
    return data


def render_page(data):
    """The page's HTML text for ``data`` (:func:`page_data`)."""
    with open(TEMPLATE, encoding='utf-8') as f:
        template = f.read()
    # '</' inside the JSON would end the script element early.
    text = json.dumps(data, separators=(',', ':')).replace('</', '<\\/')
    return (template.replace('__TITLE__', html.escape(data['title']))
            .replace('__DATA__', text))


def write_page(path, data):
    """Write the page whole or not at all; returns ``path``."""
    with written_whole(path) as tmp:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(render_page(data))
    return path


class Inline:
    """A page shown inside a Jupyter notebook: ``Inline(path)`` as a cell's
    last line. The page's text goes into the output as an ``<iframe
    srcdoc>``, so it works in any notebook front end and from any folder
    (``path`` is read by the kernel, relative to the notebook's folder),
    with no file server; the notebook grows by the page's size.
    """

    def __init__(self, path, height=900):
        self.path, self.height = path, int(height)

    def _repr_html_(self):
        with open(self.path, encoding='utf-8') as f:
            text = f.read()
        return ('<iframe srcdoc="{}" style="width: 100%; height: {}px; '
                'border: 0"></iframe>'.format(html.escape(text, quote=True),
                                              self.height))


class PageRecorder:
    """Observer of a demo that writes ``episode-<k>.html`` per episode
    (:func:`page_data`): the luminance of every step, each method's maps
    (the result's own and its ``others``), the value, the action
    probabilities, the action taken and its reward. Maps are kept as the
    page stores them (a byte a pixel), so a long game fits in memory.

    Args:
        folder (str): where the pages go.
        title (str): the game and agent, in each page's title.
        method (str): the name of the result's own maps.
        action_names (list): the actions' names (the probability strip).
    """

    def __init__(self, folder, title, method, action_names=None):
        self.folder, self.title, self.method = folder, title, method
        self.action_names = action_names
        self.files = []
        self.episode = 0
        self._start()

    def _start(self):
        self._luma, self._values, self._probs = [], [], []
        self._actions, self._rewards = [], []
        self._maps = collections.OrderedDict()

    def observe(self, step):
        result = step.result
        self._luma.append(step.luma)
        self._values.append(result.value)
        self._probs.append(result.action_probs)
        self._actions.append(result.action)
        self._rewards.append(0.0)
        pairs = [(self.method, (result.actor, result.critic))]
        pairs += list((result.others or {}).items())
        for name, pair in pairs:
            stored = self._maps.setdefault(name, ([], [], [], []))
            for k, array in enumerate(pair):
                levels, peaks = quantise(np.asarray(array)[None])
                stored[k].append(levels[0])
                stored[k + 2].append(peaks[0])

    def rewarded(self, reward):
        if self._rewards:
            self._rewards[-1] = float(reward)

    def _finish(self):
        if not self._luma:
            return False
        methods = {name: (Quantised(np.stack(s[0]), s[2]),
                          Quantised(np.stack(s[1]), s[3]))
                   for name, s in self._maps.items()}
        total = sum(self._rewards)
        data = page_data(
            '{}: episode {}'.format(self.title, self.episode),
            np.stack(self._luma), methods,
            subtitle='{} steps, return {:g}; methods: {}'.format(
                len(self._luma), total, ', '.join(methods)),
            values=self._values, probs=np.stack(self._probs),
            actions=self._actions, rewards=self._rewards,
            action_names=self.action_names)
        path = os.path.join(self.folder, 'episode-{:03d}.html'.format(
            self.episode))
        write_page(path, data)
        if path not in self.files:
            self.files.append(path)
        return True

    def end_episode(self):
        if self._finish():
            self.episode += 1
        self._start()

    def close(self):
        """Write the page of the episode under way (also on Ctrl-C)."""
        try:
            self._finish()
        finally:
            self._start()
