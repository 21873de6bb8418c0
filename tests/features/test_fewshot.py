"""The few-shot linear evaluation against a closed-form ridge solution computed here, its
seeded draws, and its errors."""

import numpy as np
import pytest

from bit_keras.features import fewshot


def _reference_accuracy(x, y, x_test, y_test, num_classes, l2_reg):
    # Ridge regression as ordinary least squares on rows stacked with sqrt(λ)·I.
    mean, std = x.mean(0), x.std(0) + 1e-5
    x = np.hstack([(x - mean) / std, np.full((len(x), 1), 100.0)])
    x_test = np.hstack([(x_test - mean) / std, np.full((len(x_test), 1), 100.0)])
    targets = np.where(np.eye(num_classes)[y] > 0, 1.0, -1.0)
    stacked = np.vstack([x, np.sqrt(l2_reg) * np.eye(x.shape[1])])
    padded = np.vstack([targets, np.zeros((x.shape[1], num_classes))])
    weights = np.linalg.lstsq(stacked, padded, rcond=None)[0]
    return np.mean(np.argmax(x_test @ weights, 1) == y_test)


@pytest.mark.parametrize(("n", "d"), [(60, 8), (12, 40)])  # more examples, more features
@pytest.mark.parametrize("l2_reg", [1.0, 2.0**10])
def test_ridge_matches_the_closed_form(n, d, l2_reg):
    rng = np.random.default_rng(n + d)
    centres = rng.normal(0, 1, (4, d))
    y, y_test = rng.integers(0, 4, n), rng.integers(0, 4, 200)
    x = centres[y] + rng.normal(0, 0.8, (n, d))
    x_test = centres[y_test] + rng.normal(0, 0.8, (200, d))
    ours = fewshot.ridge_accuracy(x, y, x_test, y_test, 4, l2_reg)
    assert ours == _reference_accuracy(x, y, x_test, y_test, 4, l2_reg)
    assert 0.25 <= ours < 1.0  # not all right: a wrong solution would show


def _clusters(seed=0, per_class=30, classes=5, spread=0.3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (classes, 16))
    y = np.repeat(np.arange(classes), per_class)
    return centres[y] + rng.normal(0, spread, (len(y), 16)), y


def test_seeds_shots_and_results():
    x, y = _clusters()
    x_test, y_test = _clusters(seed=0, per_class=10)
    result = fewshot.fewshot_accuracy(x, y, x_test, y_test, shots=(5, 1), seeds=4)
    assert list(result) == [1, 5]
    for entry in result.values():
        assert len(entry["seeds"]) == 4
        assert entry["mean"] == pytest.approx(np.mean(entry["seeds"]))
        assert entry["std"] == pytest.approx(np.std(entry["seeds"]))
    assert result[5]["mean"] == 1.0  # well-separated clusters
    again = fewshot.fewshot_accuracy(x, y, x_test, y_test, shots=(5, 1), seeds=4)
    assert again == result
    # Each seed draws its own examples: a seed's 1-shot accuracy is the reference's on them.
    rng = np.random.default_rng(3)
    orders = [rng.permutation(np.flatnonzero(y == c)) for c in range(5)]
    chosen = np.concatenate([order[:1] for order in orders])
    expected = _reference_accuracy(x[chosen], y[chosen], x_test, y_test, 5, 2.0**10)
    assert result[1]["seeds"][3] == expected


def test_raw_digit_pixels_at_ten_shots():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data, digits.target
    result = fewshot.fewshot_accuracy(x[:1000], y[:1000], x[1000:], y[1000:], shots=(10,))
    assert 0.7 < result[10]["mean"] < 1.0


def test_too_few_examples_and_mismatches_are_named():
    x, y = _clusters(per_class=3)
    with pytest.raises(ValueError, match=r"5 shots need 5 training examples.*class 0: 3"):
        fewshot.fewshot_accuracy(x, y, x, y, shots=(1, 5))
    with pytest.raises(ValueError, match="same length"):
        fewshot.fewshot_accuracy(x, y[:-1], x, y)
    with pytest.raises(ValueError, match="positive"):
        fewshot.fewshot_accuracy(x, y, x, y, shots=(0,))
