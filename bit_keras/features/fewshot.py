"""Few-shot linear evaluation of frozen features, as BiT's papers and big_vision judge
representations: closed-form L2-regularised least squares on one-hot targets.

For each seed, each class's training examples are put in a random order and the first K of
each class are the K-shot training set (so the 5-shot set holds the 1-shot set: big_vision's
draw). Features are whitened with that set's mean and standard deviation, a constant feature
of 100 stands in for the bias (large, so that the ridge penalty barely touches it), targets
are one-hot in {-1, 1}, and the weights are `(XᵀX + λI)⁻¹ Xᵀ Y` (or `Xᵀ (XXᵀ + λI)⁻¹ Y`
when there are more features than examples, the same solution). Test accuracy is the
argmax's. The regulariser is big_vision's fixed `λ = 2¹⁰` (configs/common_fewshot.py,
`l2_reg = 2.0 ** 10`; evaluators/fewshot_lsr.py), with its shots 1, 5, 10, 25; big_vision
averages 3 seeds. Pure NumPy (float64): seconds for 10,000 embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# big_vision's few-shot settings (configs/common_fewshot.py, evaluators/fewshot_lsr.py).
FEWSHOT_L2_REG = 2.0**10
FEWSHOT_SHOTS = (1, 5, 10, 25)
FEWSHOT_SEEDS = 3
BIAS_CONSTANT = 100.0
STD_EPSILON = 1e-5


def ridge_accuracy(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    num_classes: int,
    l2_reg: float = FEWSHOT_L2_REG,
) -> float:
    """Test accuracy of the L2-regularised least-squares classifier fit on `(x, y)`.

    Args:
        x: Training features (N, D).
        y: Their class ids (N,).
        x_test: Test features (M, D).
        y_test: Their class ids (M,).
        num_classes: Classes (columns of the one-hot targets).
        l2_reg: The ridge penalty λ.
    """
    x, x_test = np.asarray(x, np.float64), np.asarray(x_test, np.float64)
    mean = x.mean(axis=0, keepdims=True)
    std = x.std(axis=0, keepdims=True) + STD_EPSILON
    x = _with_bias((x - mean) / std)
    x_test = _with_bias((x_test - mean) / std)
    targets = 2.0 * np.eye(num_classes)[np.asarray(y)] - 1.0
    n, d = x.shape
    if n >= d:
        weights = np.linalg.solve(x.T @ x + l2_reg * np.eye(d), x.T @ targets)
    else:
        weights = x.T @ np.linalg.solve(x @ x.T + l2_reg * np.eye(n), targets)
    return float(np.mean(np.argmax(x_test @ weights, axis=1) == np.asarray(y_test)))


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 1)), constant_values=BIAS_CONSTANT)


def fewshot_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    *,
    shots: Sequence[int] = FEWSHOT_SHOTS,
    seeds: int | Sequence[int] = FEWSHOT_SEEDS,
    l2_reg: float = FEWSHOT_L2_REG,
    num_classes: int | None = None,
) -> dict[int, dict]:
    """The few-shot linear evaluation at each number of shots, over several seeds.

    Args:
        train_features: Features of the training split (N, D), computed once.
        train_labels: Their class ids (N,).
        test_features: Features of the test split (M, D).
        test_labels: Their class ids (M,).
        shots: Examples per class of each evaluation.
        seeds: How many seeds (0, 1, ...), or the seeds themselves.
        l2_reg: The ridge penalty (big_vision's 2¹⁰).
        num_classes: Classes; by default one more than the largest label.

    Returns:
        `{shots: {"mean": ..., "std": ..., "seeds": [accuracy of each seed]}}`.

    Raises:
        ValueError: mismatched shapes, a number of shots below 1, or a class with fewer
            training examples than the most shots asked for (named).
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if len(train_features) != len(train_labels) or len(test_features) != len(test_labels):
        raise ValueError(
            "Features and labels must have the same length. Received: "
            f"{len(train_features)} and {len(train_labels)} (train), "
            f"{len(test_features)} and {len(test_labels)} (test)"
        )
    shots = sorted(set(shots))
    if not shots or shots[0] < 1:
        raise ValueError(f"Shots must be positive. Received: shots={shots}")
    num_classes = num_classes or int(max(train_labels.max(), test_labels.max())) + 1
    counts = np.bincount(train_labels, minlength=num_classes)
    short = [(c, int(n)) for c, n in enumerate(counts) if n < shots[-1]]
    if short:
        listed = ", ".join(f"class {c}: {n}" for c, n in short[:10])
        raise ValueError(
            f"{shots[-1]} shots need {shots[-1]} training examples of every class; "
            f"{len(short)} class(es) have fewer ({listed})."
        )
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    by_shots: dict[int, list[float]] = {k: [] for k in shots}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        orders = [rng.permutation(np.flatnonzero(train_labels == c)) for c in range(num_classes)]
        for k in shots:
            chosen = np.concatenate([order[:k] for order in orders])
            by_shots[k].append(
                ridge_accuracy(
                    train_features[chosen],
                    train_labels[chosen],
                    test_features,
                    test_labels,
                    num_classes,
                    l2_reg,
                )
            )
    return {
        k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "seeds": v}
        for k, v in by_shots.items()
    }


def fewshot_table(results: dict[int, dict]) -> str:
    """`fewshot_accuracy`'s results as a table: shots, mean +- std, and each seed's accuracy."""
    lines = ["shots  accuracy (mean +- std)  per seed"]
    for k, result in sorted(results.items()):
        seeds = " ".join(f"{a:.4f}" for a in result["seeds"])
        lines.append(f"{k:>5}  {result['mean']:.4f} +- {result['std']:.4f}        {seeds}")
    return "\n".join(lines)
