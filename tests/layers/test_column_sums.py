"""`column_sums`: BLAS's `ones @ x` in a TensorFlow graph, reductions where XLA compiles it."""

import collections

import keras
import numpy as np
import pytest

from bit_keras.layers import GroupNormalization, StdConv2D


def _op_types(jit_compile: bool) -> collections.Counter:
    """The op types of a StdConv2D's and a GroupNorm's forward pass and gradient, traced."""
    import tensorflow as tf

    conv = StdConv2D(16, 3, padding="same", use_bias=False)
    norm = GroupNormalization(groups=4)

    # A fixed weighting: the sum of squares of a GroupNorm's output does not depend on x.
    weights = tf.random.stateless_normal((2, 6, 6, 16), seed=(3, 4))

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(norm(conv(x)) * weights)
        return tape.gradient(y, [x, *conv.trainable_weights, *norm.trainable_weights])

    x = tf.random.stateless_normal((2, 6, 6, 8), seed=(1, 2))
    step = tf.function(step, jit_compile=jit_compile, autograph=False)
    graph = step.get_concrete_function(x).graph
    return collections.Counter(op.type for op in graph.get_operations()), step(x)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads a TensorFlow graph")
def test_xla_compiled_graphs_sum_by_reductions_and_give_the_same_numbers():
    keras.utils.set_random_seed(0)
    plain, plain_out = _op_types(jit_compile=False)
    keras.utils.set_random_seed(0)
    compiled, compiled_out = _op_types(jit_compile=True)
    # Weight standardization (2 sums) and GroupNorm (2 forward, 2 in its gradient).
    assert plain["BatchMatMulV2"] >= 6 and compiled["BatchMatMulV2"] == 0
    assert compiled["Sum"] >= plain["Sum"] + 6
    for a, b in zip(plain_out, compiled_out, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
