"""What a crop of each convolution costs (groundwork for incremental
perturbation scoring).

For 289 masks (Greydanus' and occlusion's grids) and the ICLR-ACER head's
convolutions with random weights, times one ReLU convolution on the crop
an occlusion window needs (conv1 and conv2: 3x3 outputs; conv3: 5x5),
through ONNX Runtime (one Conv + Relu graph with dynamic shapes) and
through NumPy (im2col and a matrix product), beside conv3 on its whole
9x9 input: medians of ``--repeats`` runs, ``--threads`` threads.

    python bench/crop_convolutions.py --threads 2
"""
import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from numpy.lib.stride_tricks import sliding_window_view
from onnx import TensorProto, helper, numpy_helper

# name, weight shape, stride, input crop (masks, channels, rows, cols)
CASES = [('conv1, 3x3 outputs', (32, 4, 8, 8), 4, (289, 4, 16, 16)),
         ('conv2, 3x3 outputs', (64, 32, 4, 4), 2, (289, 32, 8, 8)),
         ('conv3, 5x5 outputs', (64, 64, 3, 3), 1, (289, 64, 7, 7)),
         ('conv3, all 7x7 (dense)', (64, 64, 3, 3), 1, (289, 64, 9, 9))]


def onnx_conv(weight, bias, stride, threads):
    graph = helper.make_graph(
        [helper.make_node('Conv', ['x', 'W', 'B'], ['c'],
                          strides=[stride, stride]),
         helper.make_node('Relu', ['c'], ['y'])], 'crop',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT,
                                       ['N', weight.shape[1], 'H', 'W'])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, 'W'),
         numpy_helper.from_array(bias, 'B')])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid('', 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=['CPUExecutionProvider'])
    return lambda x: session.run(None, {'x': x})[0]


def numpy_conv(weight, bias, stride):
    k = weight.shape[2]
    matrix = weight.reshape(weight.shape[0], -1).T

    def run(x):
        win = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride,
                                                          ::stride]
        n, c, oh, ow = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)
        out = np.maximum(cols @ matrix + bias, 0)
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
    return run


def median_ms(call, x, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=20)
    args = p.parse_args()
    from threadpoolctl import threadpool_limits
    rng = np.random.RandomState(0)
    with threadpool_limits(limits=args.threads):
        for name, shape, stride, crop in CASES:
            weight = rng.standard_normal(shape).astype(np.float32)
            bias = rng.standard_normal(shape[0]).astype(np.float32)
            x = rng.standard_normal(crop).astype(np.float32)
            fast = onnx_conv(weight, bias, stride, args.threads)
            slow = numpy_conv(weight, bias, stride)
            assert np.allclose(fast(x), slow(x), rtol=1e-4, atol=1e-3)
            print('{:24s} ONNX Runtime {:6.2f} ms   NumPy {:6.2f} ms'.format(
                name, median_ms(fast, x, args.repeats),
                median_ms(slow, x, args.repeats)), flush=True)


if __name__ == '__main__':
    main()
