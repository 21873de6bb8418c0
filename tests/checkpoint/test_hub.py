"""`hf-hub:ORG/NAME[@REVISION]`: timm-layout repositories through huggingface_hub, from a
Hugging Face cache laid out here (no network), checked against the Hub's hashes."""

import os

import numpy as np
import pytest

import bit_keras
from bit_keras import CheckpointError
from bit_keras.checkpoint import CheckpointDownloadError
from bit_keras.checkpoint.hub import HubName, download_from_hub, parse_hub_name
from bit_keras.pretrained import catalog
from bit_test_utils import PARITY_ATOL, TIMM_IO, lay_out_hub_cache, timm_fixture_files

REPO_ID = "someone/bit-r14x1-head10"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("hf-hub:timm/resnetv2_50x1_bit.goog_in21k", HubName("timm/resnetv2_50x1_bit.goog_in21k")),
        ("hf-hub:me/my-bit@v1.0", HubName("me/my-bit", "v1.0")),
        ("hf-hub:me/my_bit@" + "a" * 40, HubName("me/my_bit", "a" * 40)),
    ],
)
def test_hub_names_parse(source, expected):
    assert parse_hub_name(source) == expected
    assert str(expected) == source


@pytest.mark.parametrize(
    "source, message",
    [
        ("hf-hub:resnetv2_50x1_bit", "does not name a Hugging Face Hub repository"),
        ("hf-hub:a/b/c", "does not name a Hugging Face Hub repository"),
        ("hf-hub:me/bad name", "does not name a Hugging Face Hub repository"),
        ("hf-hub:me/../x", "does not name a Hugging Face Hub repository"),
        ("hf-hub:me/bit@", "empty revision"),
        ("timm/resnetv2_50x1_bit", "Expected hf-hub:ORG/NAME"),
    ],
)
def test_bad_hub_names_are_named(source, message):
    with pytest.raises(ValueError, match=message):
        parse_hub_name(source)


def test_a_hub_repository_gives_timms_outputs_offline(offline_hub):
    snapshot = lay_out_hub_cache(offline_hub, REPO_ID, timm_fixture_files())
    source = f"hf-hub:{REPO_ID}"
    model = bit_keras.model_from_checkpoint(source)
    assert model.name == "bit_r14x1_head10" and model.output_shape == (None, 10)
    with np.load(TIMM_IO) as reference:
        np.testing.assert_allclose(
            model(reference["x64"]), reference["x64_logits"], atol=PARITY_ATOL
        )
    # The same through create_model: as the name (timm's way), and as the weights of an
    # architecture with a new head.
    named = bit_keras.create_model(source, input_shape=(64, 64, 3))
    assert named.name == "bit_r14x1_head10"
    for mine, theirs in zip(named.weights, model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    transfer = bit_keras.create_model("R14x1", weights=source, classes=3)
    root = "resnet/root_block/standardized_conv2d/kernel"
    np.testing.assert_array_equal(
        bit_keras.checkpoint.official_arrays(transfer)[root],
        bit_keras.checkpoint.official_arrays(model)[root],
    )
    assert not np.asarray(transfer.get_layer("head").kernel).any()  # the new zero head
    # The config came with the weights: the snapshot is a folder in timm's layout.
    assert os.path.isfile(snapshot / "config.json")
    assert bit_keras.pretrained.default_resolution(snapshot) == 64


def test_revisions_resolve_through_the_caches_refs(offline_hub):
    lay_out_hub_cache(offline_hub, REPO_ID, timm_fixture_files(), revision="v1")
    path = download_from_hub(f"hf-hub:{REPO_ID}@v1")
    assert path.endswith(os.path.join("model.safetensors"))
    commit = (offline_hub / f"models--{REPO_ID.replace('/', '--')}" / "refs" / "v1").read_text()
    assert download_from_hub(f"hf-hub:{REPO_ID}@{commit}") == path
    with pytest.raises(CheckpointDownloadError, match="is not in the Hugging Face cache"):
        download_from_hub(f"hf-hub:{REPO_ID}")  # main was never downloaded


def test_offline_a_missing_file_is_one_line_naming_the_repository_and_the_cache(offline_hub):
    with pytest.raises(CheckpointDownloadError) as error:
        bit_keras.model_from_checkpoint("hf-hub:timm/resnetv2_50x1_bit.goog_in21k")
    message = str(error.value)
    assert "\n" not in message
    assert "model.safetensors of hf-hub:timm/resnetv2_50x1_bit.goog_in21k" in message
    assert str(offline_hub) in message and "HF_HUB_OFFLINE is set" in message


def test_a_damaged_download_is_refused_against_the_hubs_sha256(offline_hub):
    snapshot = lay_out_hub_cache(offline_hub, REPO_ID, timm_fixture_files())
    blob = os.path.realpath(snapshot / "model.safetensors")
    expected = os.path.basename(blob)
    with open(blob, "r+b") as f:  # one flipped byte in the middle of a tensor
        f.seek(os.path.getsize(blob) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CheckpointError) as error:
        bit_keras.create_model("R14x1", weights=f"hf-hub:{REPO_ID}", classes=10)
    message = str(error.value)
    assert f"does not match the Hub's SHA-256 of it ({expected}" in message
    assert f"Delete {blob}" in message


def test_a_damaged_small_file_is_refused_against_gits_sha1(offline_hub):
    snapshot = lay_out_hub_cache(offline_hub, REPO_ID, timm_fixture_files())
    blob = os.path.realpath(snapshot / "config.json")
    with open(blob, "a") as f:
        f.write(" ")
    with pytest.raises(CheckpointError, match="does not match the Hub's Git SHA-1"):
        download_from_hub(f"hf-hub:{REPO_ID}", "config.json")


def test_the_hubs_answers_are_named(monkeypatch):
    # A mocked Hub: what huggingface_hub raises for a repository without the file, or none.
    import types

    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

    def no_file(*args, **kwargs):
        raise EntryNotFoundError("404 Entry Not Found")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_file)
    with pytest.raises(CheckpointDownloadError, match=r"never a pickled pytorch_model\.bin"):
        download_from_hub("hf-hub:someone/a-pytorch-bit")

    def no_repository(*args, **kwargs):
        response = types.SimpleNamespace(headers={}, request=None, status_code=404)
        raise RepositoryNotFoundError("404 Repository Not Found", response=response)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_repository)
    with pytest.raises(CheckpointDownloadError, match="No Hugging Face Hub repository"):
        bit_keras.create_model("R14x1", weights="hf-hub:someone/nothing")


def test_an_hf_hub_name_brings_its_own_weights():
    with pytest.raises(ValueError, match="brings its own weights"):
        bit_keras.create_model("hf-hub:timm/resnetv2_50x1_bit.goog_in21k", weights=None)
    with pytest.raises(ValueError, match="--model=R50x1 --weights=hf-hub:timm/"):
        catalog.check_weights("hf-hub:timm/resnetv2_50x1_bit.goog_in21k", None)
    with pytest.raises(ValueError, match="does not name a Hugging Face Hub repository"):
        catalog.check_weights("R50x1", "hf-hub:nobody")
