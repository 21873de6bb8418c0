"""Sums and sums of squares down the columns of a batch of matrices, in one read each.

The statistics of GroupNorm (over the positions of every channel) and of weight
standardization (over the inputs of every output channel) are both column sums of a
(batch, rows, columns) tensor. Measured on 2 CPU cores (tensorflow 2.21), a (16, 3136, 256)
float32 tensor, median of 20: `reduce_sum` 3.7 ms, `ones @ x` 1.6 ms (BLAS reads memory
faster than TensorFlow's reduction kernels); `reduce_sum(x**2)` 6.3 ms, `ones @ x**2` 4.1 ms.
Under XLA it is the other way round: XLA fuses reductions with the ops around them, and
compiles the dot of a row of ones into a slow loop. A graph XLA compiles (TensorFlow's
`jit_compile`, and JAX) sums with `ops.sum`: on 2 CPU cores, medians of 10, R50x1's
`jit_compile` training step (batch 16 at 128 px) 1127 ms with `ones @ x`, 734 ms with
`ops.sum`; its XLA inference 293 against 182 ms; R14x1's step (batch 64 at 16 px) 134
against 112 ms.
"""

from __future__ import annotations

import keras
from keras import ops


def column_sums(x, *, squared: bool = False):
    """The sums of a float32 `(batch, rows, columns)` tensor over its rows, `(batch, columns)`.

    With `squared=True`, the sums of its squares.
    """
    if squared:
        # The squares of a flattened view: the TFLite converter fuses a subtraction followed
        # by a square into SQUARED_DIFFERENCE, whose int8 kernel LiteRT runs ~30x slower than
        # MUL's (5.8 against 0.2 ms on a (1, 3136, 32, 8) tensor, 2 threads); the reshape
        # keeps the subtraction and the square apart, and the int8 file squares in float32
        # (one GroupNorm 0.6 ms against 5.8). The same Square op on the same values (`x * x`
        # would too, but XLA then fused it differently and the README's digits run ended 1.4
        # points lower: its accuracy moves by that much with summation order).
        x = ops.reshape(ops.square(ops.reshape(x, (-1,))), ops.shape(x))
    if keras.backend.backend() != "tensorflow" or _compiled_by_xla():
        # XLA's reductions need no trick (see above), and its float32 dot sums less exactly.
        return ops.sum(x, axis=1)
    # BLAS reads faster than TensorFlow's reduction kernels. reduce_euclidean_norm(x)**2
    # would square as it reads (no x**2 tensor, equally fast), but TFLite has no such op.
    ones = ops.ones((1, 1, ops.shape(x)[1]), dtype=x.dtype)
    return ops.squeeze(ops.matmul(ones, x), axis=1)


def _compiled_by_xla() -> bool:
    """Whether the TensorFlow graph being traced is one XLA compiles (`jit_compile=True`, of a
    `tf.function` or of Keras' `compile`), or a function inside one."""
    import tensorflow as tf

    # No public API says this; TensorFlow's own ops ask the same question this way.
    from tensorflow.python.ops import control_flow_util

    return tf.inside_function() and control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )
