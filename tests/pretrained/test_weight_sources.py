"""Where a published name's weights come from: the official bucket, else timm's Hub mirror,
saying which; a way to choose one. Downloads fail here (an unreachable address), the Hub
answers from a Hugging Face cache laid out by the test."""

import dataclasses
import logging

import numpy as np
import pytest

import bit_keras
from bit_keras.checkpoint import CheckpointDownloadError
from bit_keras.pretrained import builder, catalog
from bit_test_utils import PARITY_ATOL, TIMM_IO, lay_out_hub_cache, timm_fixture_files

ARCHS = ("50x1", "50x3", "101x1", "101x3", "152x2", "152x4")
# timm's BiT weights on the Hub (timm/models/resnetv2.py, default_cfgs), by registry name.
TIMM_MIRRORS = {
    **{f"BiT-M-R{a}": f"timm/resnetv2_{a}_bit.goog_in21k" for a in ARCHS},
    **{f"BiT-M-R{a}-ILSVRC2012": f"timm/resnetv2_{a}_bit.goog_in21k_ft_in1k" for a in ARCHS},
    "BiT-R50x1-distilled-224": "timm/resnetv2_50x1_bit.goog_distilled_in1k",
    "BiT-R152x2-teacher-224": "timm/resnetv2_152x2_bit.goog_teacher_in21k_ft_in1k",
    "BiT-R152x2-teacher-384": "timm/resnetv2_152x2_bit.goog_teacher_in21k_ft_in1k_384",
}
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: refused at once
MIRROR = "someone/bit-r14x1-head10"


def test_the_fifteen_entries_timm_mirrors_name_their_hub_repository():
    mirrored = {m.name: m.hub_id for m in bit_keras.list_models(details=True) if m.hub_id}
    assert mirrored == TIMM_MIRRORS
    info = bit_keras.get_model_info("BiT-M-R50x1")
    assert info.hub_name == "hf-hub:timm/resnetv2_50x1_bit.goog_in21k"
    assert bit_keras.get_model_info("BiT-S-R50x1").hub_name is None
    # The Hub names of the registry's entries run at the entries' resolutions.
    assert (
        bit_keras.pretrained.default_resolution(
            "hf-hub:timm/resnetv2_152x2_bit.goog_teacher_in21k_ft_in1k_384@main"
        )
        == 384
    )


@pytest.fixture
def mirrored_entry(tmp_path, monkeypatch, offline_hub):
    """A registry entry whose bucket cannot be reached and whose Hub mirror is the timm
    fixture, in the offline cache."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(builder.WEIGHTS_SOURCE_ENV, raising=False)
    snapshot = lay_out_hub_cache(offline_hub, MIRROR, timm_fixture_files())
    info = dataclasses.replace(
        bit_keras.get_model_info("BiT-M-R50x1"),
        origin=f"{UNREACHABLE}BiT-M-R50x1.npz",
        hub_id=MIRROR,
    )
    monkeypatch.setitem(catalog.PRETRAINED, info.name, info)
    return info, snapshot


def test_a_failed_bucket_falls_back_to_the_hub_and_says_so(mirrored_entry, caplog):
    info, snapshot = mirrored_entry
    with caplog.at_level(logging.WARNING, logger=builder.__name__):
        path = builder.checkpoint_path(info.name)
    assert path == str(snapshot / "model.safetensors")
    (record,) = [r for r in caplog.records if r.name == builder.__name__]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "the official bucket failed" in message and "127.0.0.1:9" in message
    assert f"hf-hub:{MIRROR}" in message
    # What came is the mirror's weights.
    model = bit_keras.model_from_checkpoint(path)
    with np.load(TIMM_IO) as reference:
        np.testing.assert_allclose(
            model(reference["x64"]), reference["x64_logits"], atol=PARITY_ATOL
        )


def test_choosing_one_source(mirrored_entry, monkeypatch):
    info, snapshot = mirrored_entry
    with pytest.raises(CheckpointDownloadError, match=r"127\.0\.0\.1:9"):
        builder.fetch(info, source="bucket")
    monkeypatch.setenv(builder.WEIGHTS_SOURCE_ENV, "bucket")
    with pytest.raises(CheckpointDownloadError, match=r"127\.0\.0\.1:9"):
        builder.checkpoint_path(info.name)

    def no_bucket(*args, **kwargs):
        raise AssertionError("the bucket was tried")

    monkeypatch.setattr(builder, "fetch_checkpoint", no_bucket)
    monkeypatch.setenv(builder.WEIGHTS_SOURCE_ENV, "hub")
    assert builder.fetch(info) == str(snapshot / "model.safetensors")
    with pytest.raises(ValueError, match="BIT_KERAS_WEIGHTS_SOURCE"):
        builder.fetch(info, source="mirror")
    with pytest.raises(ValueError, match="BiT-S-R50x1 has no Hugging Face Hub mirror"):
        builder.fetch(bit_keras.get_model_info("BiT-S-R50x1"))


def test_when_both_sources_fail_each_reason_is_given(tmp_path, monkeypatch, offline_hub):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv(builder.WEIGHTS_SOURCE_ENV, raising=False)
    info = dataclasses.replace(
        bit_keras.get_model_info("BiT-M-R50x1"), origin=f"{UNREACHABLE}BiT-M-R50x1.npz"
    )
    with pytest.raises(CheckpointDownloadError) as error:
        builder.fetch(info)
    message = str(error.value)
    assert message.startswith("BiT-M-R50x1: neither source gave the weights.")
    assert "127.0.0.1:9" in message  # the bucket's reason, with where to put the file
    assert str(tmp_path / "bit_keras" / "BiT-M-R50x1.npz") in message
    assert "timm/resnetv2_50x1_bit.goog_in21k is not in the Hugging Face cache" in message
    # Without a mirror, the bucket's own error.
    bits = dataclasses.replace(
        bit_keras.get_model_info("BiT-S-R50x1"), origin=f"{UNREACHABLE}BiT-S-R50x1.npz"
    )
    with pytest.raises(CheckpointDownloadError, match=r"^Could not download"):
        builder.fetch(bits)
