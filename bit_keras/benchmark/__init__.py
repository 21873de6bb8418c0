"""Speed of BiT models against keras.applications ResNet50V2, measured side by side.

`compare.run` times a bit_keras model and `keras.applications.ResNet50V2` (weights=None, the
same classes) in one process, interleaved: inference throughput, batch-1 latency, the
training step of bit-train, and LiteRT latency of the TFLite exports; `op_profile` gives the
TensorFlow profiler's time by op type. `tools/benchmark.py` is the program.

The top layer of the package, above `training` and `export`, whose code it measures.
TensorFlow backend only.
"""
