"""The weight files bit_keras reads and writes, by file ending: official-layout `.npz`,
Keras' `.keras` and `.weights.h5`, timm's `.safetensors`. Imports nothing (the registry's
name checks use it before TensorFlow loads)."""

SUFFIXES = (".npz", ".keras", ".weights.h5", ".safetensors")
