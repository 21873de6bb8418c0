import pathlib

import numpy as np
import pytest

from bit_keras import decode_predictions
from bit_keras.predictions import class_ids, class_names, top_classes

LABELS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "imagenet_labels"


@pytest.mark.parametrize(
    ("classes", "fname"), [(1000, "imagenet_synsets.txt"), (21843, "imagenet21k_goog_synsets.txt")]
)
def test_packaged_lists_match_shared_labels(classes, fname):
    expected = (LABELS / fname).read_text().split()
    assert list(class_ids(classes)) == expected
    assert list(class_ids(classes)) == sorted(expected)  # head order is sorted ids
    names = class_names()
    assert all(wnid in names for wnid in expected)


def test_decode_1k_top_k_in_order():
    scores = np.zeros((2, 1000), "float32")
    scores[0, [0, 1, 2]] = [3.0, 5.0, 4.0]
    scores[1, 999] = 1.0
    decoded = decode_predictions(scores, top=3)
    assert [wnid for wnid, _, _ in decoded[0]] == ["n01443537", "n01484850", "n01440764"]
    assert decoded[0][0] == ("n01443537", "goldfish, Carassius auratus", 5.0)
    assert decoded[1][0][0] == class_ids(1000)[999]
    assert len(decoded[1]) == 3


def test_decode_21k():
    scores = np.zeros((1, 21843), "float32")
    scores[0, 21842] = 2.0
    (best,) = decode_predictions(scores, top=1)[0]
    assert best[0] == class_ids(21843)[21842] and best[1] == class_names()[best[0]] != ""


@pytest.mark.parametrize(("shape", "top"), [((1, 10), 5), ((1000,), 5), ((1, 1000), 0)])
def test_decode_rejects_bad_input(shape, top):
    with pytest.raises(ValueError, match=r"preds|top"):
        decode_predictions(np.zeros(shape), top=top)


def test_top_classes_any_head():
    scores = np.array([[0.1, 0.9, 0.5]])
    assert top_classes(scores, top=5) == [
        [("1", "class 1", 0.9), ("2", "class 2", 0.5), ("0", "class 0", 0.1)]
    ]
    imagenet = np.zeros((1, 1000))
    assert top_classes(imagenet, 1) == decode_predictions(imagenet, 1)
