"""Perturbation scoring that recomputes only what each mask changes.

A masked input ``F + K * (I - F)`` differs from the frame ``I`` only
where the keep mask ``K`` is below 1 *and* the fill ``F`` differs from the
frame. A convolution's output can change only where its receptive field
meets a changed input, so a mask's change stays confined, growing by each
layer's kernel on the way up. :class:`Incremental` computes, layer by
layer, the unperturbed outputs (once for all masks) and only the outputs
each mask can change:

* **where.** A mask's changed inputs are found on blocks of the first
  convolution's stride: a block counts if the mask perturbs one of its
  pixels and the fill differs from the frame at one of them (a superset
  of the changed pixels). A layer's changed outputs are those whose
  receptive field holds a changed output of the layer below.
* **the first convolution**, linear in its input, through the
  difference: with ``M = 1 - K`` the same on every channel,
  ``conv(I + M (F - I)) = conv(I) + sum_u M_u G_u``, where ``G_u`` at an
  output is the fill's difference from the frame under kernel tap ``u``
  folded with the weights over the input channels. Per output position,
  the patches of the masks whose support reaches it (fixed by the masks
  alone, so kept from frame to frame) times that position's ``G``: one
  batched product for all positions, whose results (with an empty slot
  per position: the unperturbed activation) are the next layer's table.
* **every other convolution** directly: the patches of its unperturbed
  outputs and of the changed ones, gathered from the layer below's table
  of rows (one position's channels a row) by the graph itself, in one
  matrix product for all masks; its results are the next table.
* **what follows** (the A3CFF's dense layer, the LSTM step, the heads):
  its linear map through the change where few masks change each
  position, else on every mask's whole last feature map.

Outside its changed outputs a mask's activations *are* the unperturbed
ones, so the scores equal the dense engine's up to float32 rounding (the
sums run in another order). Nothing is truncated: a blob's faint tail
counts wherever it touches a pixel whose fill differs from the frame.

:meth:`Incremental.plan` counts what a batch of masks costs each way
(multiply-adds); :func:`worthwhile` is the automatic choice between the
two: masks whose support is the whole frame (RISE) keep the dense pass.
"""
import numpy as np

from kernels.graphs import (State, batched_product_graph, chained, conv_layers,
                            full_weight,
                            first_layer_graph, post_graph, rows_graph,
                            tail_graph, tail_linear)

# The incremental pass is taken when its multiply-adds are at most this
# share of the dense pass's: set by timing both passes on the shipped Pong
# and Breakout agents (bench/incremental_scoring.py, docs/incremental.md).
THRESHOLD = 0.45


def _pair(value):
    return tuple(value) if isinstance(value, tuple) else (value, value)


class _Layer:
    """One convolution: geometry, and its weights as a matrix of patches
    (rows in the order kernel row, kernel column, channel)."""

    def __init__(self, link, in_size):
        weight = full_weight(link)      # a grouped one as block-diagonal
        self.out_channels, self.channels = weight.shape[:2]
        self.ksize = weight.shape[2:]
        self.stride = _pair(link.stride)
        self.pad = _pair(link.pad)
        self.out_size = tuple(
            (n + 2 * p - k) // s + 1 for n, p, k, s in
            zip(in_size, self.pad, self.ksize, self.stride))
        self.weight = weight
        self.bias = (np.zeros(self.out_channels, np.float32)
                     if link.b is None else link.b.array.astype(np.float32))
        self.macs = int(np.prod(weight.shape))
        self.taps = self.ksize[0] * self.ksize[1]
        self.matrix = weight.transpose(2, 3, 1, 0).reshape(
            -1, self.out_channels)
        # The padded input position (row-major) under each output's kernel
        # taps, ``(OH * OW, kh * kw)``, kernel row-major: the rows of a
        # channels-last padded input that make each output's patch.
        kw, (sh, sw) = self.ksize[1], self.stride
        y, x = np.divmod(np.arange(self.out_size[0] * self.out_size[1]),
                         self.out_size[1])
        dy, dx = np.divmod(np.arange(self.taps), kw)
        self.patch_rows = ((sh * y[:, None] + dy)
                           * (in_size[1] + 2 * self.pad[1])
                           + sw * x[:, None] + dx)

    def patches(self, x):
        """The patches ``(n, OH * OW, kh * kw, C)`` of a padded
        channels-last ``x`` ``(n, H + 2 p, W + 2 p, C)`` (the rows
        :attr:`patch_rows` names, copied from a strided view: runs of
        ``kw * C`` adjacent numbers, not one row at a time)."""
        (kh, kw), (sh, sw) = self.ksize, self.stride
        oh, ow = self.out_size
        view = np.lib.stride_tricks.sliding_window_view(
            x, (kh, kw), axis=(1, 2))[:, :sh * (oh - 1) + 1:sh,
                                      :sw * (ow - 1) + 1:sw]
        return np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3)
                                    ).reshape(len(x), oh * ow, -1,
                                              x.shape[-1])

    def grow_bits(self, bits):
        """The outputs ``(OH, OW, bytes)`` whose receptive field holds a
        set bit of ``bits`` ``(H, W, bytes)`` (this layer's unpadded
        input, masks packed last, :class:`Plan`), one OR per kernel row
        and column."""
        (kh, kw), (sh, sw), (ph, pw) = self.ksize, self.stride, self.pad
        x = bits
        if ph or pw:
            x = np.pad(x, ((ph, ph), (pw, pw), (0, 0)))
        oh, ow = self.out_size
        rows = x[:sh * (oh - 1) + 1:sh].copy()
        for i in range(1, kh):
            rows |= x[i:i + sh * (oh - 1) + 1:sh]
        out = rows[:, :sw * (ow - 1) + 1:sw].copy()
        for j in range(1, kw):
            out |= rows[:, j:j + sw * (ow - 1) + 1:sw]
        return out


class Plan:
    """Which outputs each mask changes, layer by layer: ``bits[l]``
    ``(OH, OW, ceil(n / 8))`` uint8, mask ``k``'s bit ``k % 8`` (little
    order) of byte ``k // 8`` at each output; :meth:`changed_at` unpacks
    a layer as ``(OH, OW, n)`` bool and :attr:`changed` as the list of
    ``[n, OH, OW]``. ``macs`` and ``dense_macs`` are the multiply-adds of
    the incremental and the dense pass of these masks.
    """

    def __init__(self, bits, n, macs, dense_macs):
        self.bits, self.n = bits, n
        self.macs, self.dense_macs = macs, dense_macs

    def changed_at(self, layer):
        return np.unpackbits(self.bits[layer], axis=-1, count=self.n,
                             bitorder='little').view(bool)

    @property
    def changed(self):
        return [self.changed_at(i).transpose(2, 0, 1)
                for i in range(len(self.bits))]

    @property
    def share(self):
        """The incremental pass's multiply-adds over the dense pass's."""
        return self.macs / self.dense_macs


def worthwhile(plan):
    """The automatic choice: incremental when its multiply-adds are at
    most :data:`THRESHOLD` of the dense pass's."""
    return plan.share <= THRESHOLD


class _Masks:
    """What a set of keep masks decides alone, for the first convolution
    (output positions ``p`` row-major): ``blocks`` ``[n, bh, bw]``, where
    each mask perturbs a block of the layer's stride, and ``counts``
    ``(P,)``, how many masks' support reaches each position.

    Built when first asked (:meth:`support`), the first layer's work:
    at each position ``m + 1`` slots (``m`` the busiest position's count)
    and one more position, ``P``: ``patches`` ``(P + 1, m + 1, kh * kw +
    1)``, the patches of ``M = 1 - K`` of the masks whose support reaches
    the position, zeros elsewhere, each followed by a 1 (what adds the
    unperturbed pre-activation, :func:`graphs.first_layer_graph`). The
    first layer's results are then a table of rows ``p * (m + 1) +
    slot`` that holds everything the next layer reads: a mask's changed
    activation in its slot, the unperturbed one in each position's last
    slot (always empty) and, at the extra position (no patches, no
    difference), zeros for the next layer's padding.
    ``which`` ``(n + 1, positions of the next layer's padded input)``:
    the row of each mask's activation at each position, then (row ``n``)
    the unperturbed ones."""

    def __init__(self, keep, layer, pad):
        self.keep, self.layer, self.pad = keep, layer, pad
        self.blocks = _block_any(keep < 1, layer)
        self.bits = np.packbits(self.blocks.transpose(1, 2, 0), axis=-1,
                                bitorder='little')
        self.reach = _reach(self.blocks, layer).reshape(len(keep), -1).T
        self.counts = self.reach.sum(axis=1)
        self.slots = max(int(self.counts.max(initial=0)), 1) + 1
        self.patches = self.which = None

    def support(self):
        if self.patches is None:
            layer, keep, counts = self.layer, self.keep, self.counts
            positions, masks = np.nonzero(self.reach)
            slot = _slots(counts)
            perturbed = np.pad(1 - keep, ((0, 0),) + tuple(
                (p, p) for p in layer.pad)).astype(np.float32)
            self.patches = np.zeros((len(counts) + 1, self.slots,
                                     layer.taps + 1), np.float32)
            self.patches[..., -1] = 1
            self.patches[positions, slot, :-1] = perturbed.reshape(
                len(keep), -1)[masks[:, None], layer.patch_rows[positions]]
            ys, xs = np.divmod(positions, layer.out_size[1])
            self.which = _row_map(
                len(keep), layer.out_size, self.pad,
                (np.arange(len(counts)) + 1) * self.slots - 1,
                len(counts) * self.slots, (masks, ys, xs),
                positions * self.slots + slot)
        return self


class Incremental:
    """Incremental perturbation scoring of one of the suite's networks.

    Args:
        model: a network the engine runs (:func:`graphs.model_kind`); its
            :class:`networks.Structure` says what follows the
            convolutions.
        session: ``session(graph, threads) -> onnxruntime session``.
        threads (int): intra-op threads of every session.
    """

    # Masks go in sub-batches (one after the other) holding at most this
    # many bytes of one layer's activations: larger sub-batches measured
    # faster (fewer, larger products), and one sub-batch per thread with
    # one-thread sessions slower and far more variable than this.
    SUB_BATCH_BYTES = 32 << 20

    def __init__(self, model, session, threads=1):
        links, activation = conv_layers(model)
        self.state = State(model)
        self.threads = max(1, int(threads or 1))
        size = (model.input_size, model.input_size)
        self.layers = []
        for link in links:
            self.layers.append(_Layer(link, size))
            size = self.layers[-1].out_size
        self.tail_weights, self.tail_bias = tail_linear(model)
        # Each layer's output is the next one's input, padded by it.
        self.next_pad = [layer.pad for layer in self.layers[1:]] + [(0, 0)]
        # The first convolution through the difference, the tail after
        # its linear map, and that map on the changes per position; the
        # later convolutions' products of patches (after a row of zeros
        # where the next one pads) run chained in one model
        # (:meth:`_chain`).
        first = first_layer_graph(self.layers[0].weight,
                                  self.layers[0].bias, activation)
        self.runs = [session(graph, self.threads) for graph in [
            first, post_graph(model),
            batched_product_graph(self.tail_weights)]]
        convs = [rows_graph(layer.matrix, layer.bias, activation,
                            layer.channels, zero_row=pad != (0, 0))
                 for layer, pad in zip(self.layers[1:], self.next_pad[1:])]
        self._session = session
        self._chain_graphs = {
            (offset, tail): ([first] if offset else []) + convs
            + ([tail_graph(model)] if tail else [])
            for offset in (0, 1) for tail in (0, 1)}
        self._chains = {}
        self.tail_macs = self.tail_weights.size
        self.dense_macs = sum(layer.macs * layer.out_size[0]
                              * layer.out_size[1] for layer in self.layers) \
            + self.tail_macs
        sizes = [(layer.out_size[0] + 2 * p[0])
                 * (layer.out_size[1] + 2 * p[1]) * layer.out_channels
                 for layer, p in zip(self.layers, self.next_pad)]
        self.sub_batch = max(8, self.SUB_BATCH_BYTES // (4 * max(sizes)))
        # The tail goes through the change while no position changes
        # for more than this share of a sub-batch's masks (measured, both
        # networks: Greydanus' blobs change half the positions of most
        # masks and go whole, occlusion's windows through the change).
        self.linear_tail_share = 0.5
        self._masks = None

    def _sub_batch(self, n):
        """Masks per sub-batch: equal sub-batches, each within
        :attr:`SUB_BATCH_BYTES`."""
        return max(1, -(-n // -(-n // self.sub_batch)))

    def _mask_set(self, keep):
        if self._masks is None or self._masks.keep is not keep:
            self._masks = _Masks(keep, self.layers[0], self.next_pad[0])
        return self._masks

    # -- where the masks change the network ---------------------------------

    def plan(self, state, keep, fill):
        """The :class:`Plan` of keep masks ``keep`` ``[n, H, W]`` on
        ``state`` ``(C, H, W)`` with ``fill`` (broadcastable)."""
        fill = np.broadcast_to(np.asarray(fill, np.float32), state.shape)
        first = self.layers[0]
        masks = self._mask_set(keep)
        differs = _block_any((fill != state).any(axis=0)[None], first)[0]
        # Masks last, eight to a byte: every OR below is a few kB.
        bits = [_reach_bits(masks.bits & np.where(
            differs, np.uint8(255), np.uint8(0))[..., None], first)]
        for layer in self.layers[1:]:
            bits.append(layer.grow_bits(bits[-1]))
        # The first convolution folds the channels: kh * kw * O per
        # output each mask's support reaches.
        macs = (len(masks.counts) + 1) * masks.slots * first.macs \
            // first.channels + len(keep) * self.tail_macs
        for layer, b in zip(self.layers[1:], bits[1:]):
            macs += int(_POPCOUNT[b].sum()) * layer.macs
        return Plan(bits, len(keep), macs, len(keep) * self.dense_macs)

    # -- scoring --------------------------------------------------------------

    def masked(self, state, keep, fill, recurrent_state=None, plan=None):
        """Scores ``(n, n_actions)`` and values ``(n,)`` of ``F + K * (I -
        F)`` for each keep mask, as :meth:`engine.Engine.masked`."""
        state = np.ascontiguousarray(state, dtype=np.float32)
        fill = np.broadcast_to(np.asarray(fill, np.float32), state.shape)
        masks = self._mask_set(keep).support()
        state_rows = self.state.rows(recurrent_state)
        first = self._first_layer_feed(state, fill, masks)
        if plan is None:
            plan = self.plan(state, keep, fill)
        n = len(keep)
        size = self._sub_batch(n)
        if size == n:
            # One sub-batch: the first layer in the same run as the rest.
            return self._part(first, self._rows(0, n, masks.which, plan),
                              state_rows, offset=1)
        table = self.runs[0].run(['y'], first)[0]
        results = []
        for begin in range(0, n, size):
            end = min(begin + size, n)
            rows = self._rows(begin, end, masks.which[np.r_[begin:end, n]],
                              plan)
            results.append(self._part({'g0_table': table}, rows,
                                      state_rows))
        return (np.concatenate([r[0] for r in results]),
                np.concatenate([r[1] for r in results]))

    def _first_layer_feed(self, state, fill, masks):
        """The first layer's inputs (its results: the table of rows of
        :class:`_Masks`)."""
        first = self.layers[0]
        positions = first.out_size[0] * first.out_size[1]
        # The patches of the frame (each followed by a 1) and of the
        # fill's difference, each with a position of zeros after them
        # (where the table's zero row comes from, _Masks).
        image = np.zeros((positions + 1, first.taps * first.channels + 1),
                         np.float32)
        image[:-1, :-1] = first.patches(_channels_last(
            state[None], first.pad))[0].reshape(positions, -1)
        image[:-1, -1] = 1
        diff = np.zeros((positions + 1, first.taps, first.channels),
                        np.float32)
        diff[:-1] = first.patches(_channels_last((fill - state)[None],
                                                 first.pad))[0]
        return {'patches': masks.patches, 'diff': diff, 'image': image}

    def _rows(self, begin, end, which, plan):
        """What the masks ``begin:end`` gather, layer by layer after the
        first, from ``which`` ``(masks + 1, positions)``, each mask's row
        in the first layer's table at each position of the next layer's
        padded input, then the unperturbed ones': per later layer, the
        ``index`` of its graph; then the tail's ``which`` and the changed
        outputs ``(masks, ys, xs)`` of the last layer.

        No mask's activations are copied whole: each later convolution
        computes its unperturbed outputs and the masks' changed ones (the
        graph gathers their patches from the layer below's table) and
        its results are the next table: (a row of zeros where the next
        layer pads,) the unperturbed outputs, then the changed ones."""
        n = end - begin
        indices = []
        for i, layer in enumerate(self.layers[1:], 1):
            # Position by position (each position's masks together): the
            # rows one run of outputs gathers lie close together in the
            # table below, whose rows go position by position too.
            ys, xs, local = np.nonzero(
                plan.changed_at(i)[:, :, begin:end])
            outputs = layer.out_size[0] * layer.out_size[1]
            index = np.empty((outputs + len(local), layer.taps), np.int64)
            index[:outputs] = which[n][layer.patch_rows]
            # which[local, patch rows], as one take of the flattened rows
            # (mode 'clip' skips the bounds check; every number is in
            # range): half the time of the fancy index.
            flat = layer.patch_rows[ys * layer.out_size[1] + xs]
            flat += (local * which.shape[1])[:, None]
            np.take(which.ravel(), flat, out=index[outputs:], mode='clip')
            indices.append(index)
            which = self._which(layer, self.next_pad[i], n, local, ys, xs)
        return indices, which, (local, ys, xs)

    def _part(self, feed, rows, state_rows, offset=0):
        """Scores and values of one sub-batch of masks from its
        :meth:`_rows` and ``feed``: the first layer's table as
        ``g0_table`` (``offset`` 0), or the first layer's inputs
        (``offset`` 1: the first layer runs in the same model)."""
        indices, which, (local, ys, xs) = rows
        runs = self.runs
        n = len(which) - 1
        if offset:
            feed = {'g0_' + name: value for name, value in feed.items()}
        for i, index in enumerate(indices, offset):
            feed['g{}_index'.format(i)] = index
        convs = len(indices) + offset
        outputs = len(self.tail_weights)
        position = ys * self.layers[-1].out_size[1] + xs
        counts = np.bincount(position, minlength=outputs)
        if counts.max(initial=0) <= n * self.linear_tail_share:
            table = self._chain(offset, 0).run(
                ['g{}_y'.format(convs - 1)], feed)[0]
            # The unperturbed last feature map: the rows before the
            # changed ones (after the zero row, if any).
            base = table[:len(table) - len(local)][-outputs:]
            pre = np.einsum('pc,pcu->u', base, self.tail_weights) \
                + self.tail_bias
            return self._tail_through_changes(
                runs, n, local, position, counts,
                table[len(table) - len(local):] - base[position],
                pre.astype(np.float32), state_rows)
        tail = 'g{}_'.format(convs)
        feed[tail + 'index'] = which[:n]
        for name, row in state_rows.items():
            feed[tail + name] = row
        return self._chain(offset, 1).run(
            [tail + 'scores', tail + 'values'], feed)

    def _chain(self, offset, tail):
        """The session of the later convolutions chained (graphs.chained),
        from the first layer on with ``offset`` (calls whose masks fit
        one sub-batch), then the tail on whole feature maps with ``tail``;
        made when first needed."""
        key = offset, tail
        if key not in self._chains:
            self._chains[key] = self._session(
                chained(self._chain_graphs[key]), self.threads)
        return self._chains[key]

    @staticmethod
    def _which(layer, pad, n, masks, ys, xs):
        """Each of ``n`` masks' row at each position of ``layer``'s output
        padded by ``pad``, in the table ``layer``'s graph makes, then the
        unperturbed rows: ``(n + 1, positions)``. The table holds a zero
        row first where ``pad`` pads, the unperturbed outputs, then the
        changed outputs ``(masks, ys, xs)`` (unpadded) in order."""
        outputs = layer.out_size[0] * layer.out_size[1]
        first = int(pad != (0, 0))
        return _row_map(n, layer.out_size, pad,
                        first + np.arange(outputs), 0, (masks, ys, xs),
                        first + outputs + np.arange(len(masks)))

    def _tail_through_changes(self, runs, n, masks, position, counts,
                              change, pre, state_rows):
        """The tail of ``n`` masks whose last feature maps differ from
        the unperturbed one by ``change`` ``(pairs, C)`` at ``(masks,
        position)``, pairs in position order (as :meth:`_rows` lists
        them): its linear map is the unperturbed ``pre`` plus, per
        position, the changes there times that position's weights (one
        batched product, rows padded to the busiest position's)."""
        starts = np.cumsum(counts) - counts
        slot = _slots(counts)
        rows = np.zeros((len(counts), max(int(counts.max(initial=0)), 1),
                         change.shape[1]), np.float32)
        rows[position, slot] = change
        product = runs[2].run(['y'], {'delta': rows})[0]
        total = np.empty((n, len(pre)), np.float32)
        total[:] = pre
        for p in np.flatnonzero(counts):
            total[masks[starts[p]:starts[p] + counts[p]]] += \
                product[p, :counts[p]]
        feed = dict(state_rows, pre=total)
        return runs[1].run(['scores', 'values'], feed)


def _row_map(n, size, pad, unperturbed, zero, changed, rows):
    """Which row of a table holds each of ``n`` masks' activation at each
    position of a layer's output ``size`` ``(h, w)`` padded by ``pad``,
    then (row ``n``) the unperturbed ones: ``(n + 1, positions)`` int64.
    Positions hold ``unperturbed`` ``(h * w,)`` and the padding ``zero``,
    except where a mask changed them: ``changed`` ``(masks, ys, xs)``
    (unpadded), whose rows are ``rows``."""
    (h, w), (ph, pw) = size, pad
    grid = np.full((h + 2 * ph, w + 2 * pw), zero, np.int64)
    grid[ph:ph + h, pw:pw + w] = np.reshape(unperturbed, (h, w))
    which = np.empty((n + 1, grid.size), np.int64)
    which[:] = grid.ravel()
    masks, ys, xs = changed
    which[masks, (ys + ph) * grid.shape[1] + xs + pw] = rows
    return which


def _slots(counts):
    """For entries grouped by key (``counts[k]`` with key ``k``, in key
    order), each entry's place within its group: what lays them out as
    rows of a ``(keys, max(counts))`` array."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def _channels_last(x, pad):
    """NCHW ``x`` as NHWC with ``pad`` zeros around, C-contiguous."""
    return _pad_hw(np.transpose(x, (0, 2, 3, 1)), pad)


def _pad_hw(x, pad):
    """NHWC ``x`` padded with zeros on H and W, C-contiguous."""
    if pad == (0, 0):
        return np.ascontiguousarray(x)
    return np.pad(x, ((0, 0), (pad[0],) * 2, (pad[1],) * 2, (0, 0)))


def _reach(blocks, layer):
    """The outputs of ``layer`` ``(n, OH, OW)`` that read a True block
    (an output reads ``ceil(k / s)`` blocks from its own index on)."""
    (kh, kw), (sh, sw) = layer.ksize, layer.stride
    oh, ow = layer.out_size
    out = np.zeros((len(blocks), oh, ow), bool)
    for i in range(-(-kh // sh)):
        for j in range(-(-kw // sw)):
            out |= blocks[:, i:i + oh, j:j + ow]
    return out


# Set bits of every byte value.
_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None],
                          axis=1).sum(axis=1).astype(np.int64)


def _reach_bits(bits, layer):
    """As :func:`_reach`, on packed masks: ``bits`` ``(bh, bw, bytes)``
    -> ``(OH, OW, bytes)``."""
    (kh, kw), (sh, sw) = layer.ksize, layer.stride
    oh, ow = layer.out_size
    out = np.zeros((oh, ow, bits.shape[-1]), np.uint8)
    for i in range(-(-kh // sh)):
        for j in range(-(-kw // sw)):
            out |= bits[i:i + oh, j:j + ow]
    return out


def _block_any(mask, layer):
    """``mask`` ``[n, H, W]`` (unpadded input of ``layer``) on blocks of
    the layer's stride in its padded input: ``[n, bh, bw]``, True where a
    block holds a True (blocks no output reads are left out)."""
    (ph, pw), (sh, sw) = layer.pad, layer.stride
    (kh, kw) = layer.ksize
    oh, ow = layer.out_size
    bh, bw = oh - 1 + -(-kh // sh), ow - 1 + -(-kw // sw)
    padded = np.zeros((len(mask), bh * sh, bw * sw), bool)
    h = min(mask.shape[1], bh * sh - ph)
    w = min(mask.shape[2], bw * sw - pw)
    padded[:, ph:ph + h, pw:pw + w] = mask[:, :h, :w]
    return padded.reshape(len(mask), bh, sh, bw, sw).any(axis=(2, 4))
