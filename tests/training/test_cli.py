"""The bit-train flags: one per TrainConfig field, with TrainConfig's defaults."""

import dataclasses

import pytest
from absl import flags

from bit_keras.training import TrainConfig, cli


def test_every_field_is_a_flag_with_its_default():
    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    defined = {flag.name: flag for flag in flags.FLAGS.get_flags_for_module(cli.__name__)}
    assert set(defined) == set(fields)
    assert {holder.name for holder in cli._RUN_FLAGS} == set(fields)  # all passed to the run
    for name, field in fields.items():
        expected = None if field.default is dataclasses.MISSING else field.default
        assert defined[name].default == expected, name


def test_logdir_is_required():
    with pytest.raises(TypeError, match="logdir"):
        TrainConfig(model="R14x1")
