"""Numerical kernels under the agents: ONNX Runtime graphs and sessions,
NumPy convolutions and their gradients, the LSTM over a segment, resizes.

Nothing here imports another package of the suite.
"""
