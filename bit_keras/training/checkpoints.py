"""A run's checkpoints: written, read back, then the oldest deleted; restored from the newest
one that reads.

`tf.train.CheckpointManager` deletes the oldest checkpoint inside `save`, before anything can
check the new one; a save that went wrong (a full disk, a failing copy) would leave a damaged
newest checkpoint and one good one fewer, and its restore would die on the damaged file. This
keeps its file layout and its state file (`checkpoint`, so `tf.train.latest_checkpoint` and
the manager read it as theirs) with public TensorFlow calls: `Checkpoint.write`, a read-back
of every tensor, then the state file and the deletion of the oldest. A restore tries
the newest first and falls back, saying which file is damaged.

A run stopped while it wrote a checkpoint (killed, its machine lost) leaves files of one that
its state file does not list: TensorFlow's `ckpt-N_temp/` of shards not yet merged, or a
whole checkpoint not yet read back. A start sets them aside (`set_aside_unfinished`) before
it restores, so the run goes on from the newest listed one and the saves to come meet no
leftovers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import tensorflow as tf

from bit_keras._runtime import files

DAMAGED_DIR = "damaged"
STATE_FILE = "checkpoint"  # tf.train.latest_checkpoint's
# A checkpoint's files by its prefix: `.index`, `.data-K-of-N`, and TensorFlow's folder of
# shards (`ckpt-N_temp/`) before they are merged.
_CHECKPOINT_FILE = re.compile(r"(ckpt-\d+)(\.index|\.data-\d+-of-\d+|_temp.*)")


class CheckpointDamagedError(OSError):
    """A checkpoint could not be read back, or none of a run's checkpoints could."""


def damage(path: str) -> str | None:
    """Why the checkpoint at prefix `path` cannot be read back, or None when every tensor
    reads."""
    try:
        # The prefix itself (`load_checkpoint` would take a prefix that its filesystem calls a
        # folder, as ram:// calls every prefix, for a folder of checkpoints).
        reader = tf.compat.v1.train.NewCheckpointReader(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except (tf.errors.OpError, OSError, ValueError, IndexError, RuntimeError) as e:
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__
    return None


class Checkpoints:
    """The checkpoints of one run in one folder.

    Args:
        checkpoint: What is saved and restored.
        directory: The folder (created on the first save).
        keep: How many of the newest checkpoints are kept.
        out: Where lines about damaged checkpoints go.
    """

    def __init__(
        self,
        checkpoint: tf.train.Checkpoint,
        directory: str,
        keep: int,
        out: Callable[[str], object] = print,
    ):
        self.checkpoint, self.directory, self.keep, self.out = checkpoint, directory, keep, out
        # Written and restored as `Checkpoint.save` and the manager do, so that the files of
        # both kinds restore alike (`write` alone would leave it out).
        checkpoint.save_counter  # noqa: B018 (creates it)

    @property
    def latest(self) -> str | None:
        """The newest checkpoint's prefix, or None."""
        return tf.train.latest_checkpoint(self.directory)

    def paths(self) -> list[str]:
        """The prefixes of the checkpoints on disk, oldest first."""
        state = tf.train.get_checkpoint_state(self.directory)
        if state is None:
            return []
        listed = list(state.all_model_checkpoint_paths)
        if state.model_checkpoint_path and state.model_checkpoint_path not in listed:
            listed.append(state.model_checkpoint_path)
        return [p for p in listed if tf.io.gfile.exists(p + ".index")]

    def set_aside_unfinished(self, *, keep: bool = True) -> list[str]:
        """Moves the files of checkpoints the state file does not list (a save that did not
        finish) into `DIRECTORY/damaged/`, or deletes them (`keep=False`: a folder no run
        resumes from, a cluster worker's own), saying so.

        Returns:
            The prefixes set aside.
        """
        if not tf.io.gfile.isdir(self.directory):
            return []
        listed = {os.path.basename(p) for p in self.paths()}
        unfinished: dict[str, list[str]] = {}
        for name in tf.io.gfile.listdir(self.directory):
            name = name.rstrip("/")
            match = _CHECKPOINT_FILE.fullmatch(name)
            if match and match.group(1) not in listed:
                unfinished.setdefault(match.group(1), []).append(name)
        aside = os.path.join(self.directory, DAMAGED_DIR)
        for prefix, names in sorted(unfinished.items()):
            for name in names:
                path = os.path.join(self.directory, name)
                _move(path, os.path.join(aside, name)) if keep else _remove(path)
            done = f"moved its files into {aside}" if keep else "deleted it"
            self.out(
                f"The checkpoint {os.path.join(self.directory, prefix)} was not finished (the "
                f"run stopped while writing it); {done}."
            )
        return [os.path.join(self.directory, prefix) for prefix in sorted(unfinished)]

    def save(self, step: int) -> str:
        """Writes the checkpoint of `step`, reads it back, then deletes the oldest beyond
        `keep`.

        Raises:
            CheckpointDamagedError: the new checkpoint does not read back; the older ones and
                the state file are as they were.
            files.WriteError: it could not be written (a full disk): what TensorFlow wrote of
                it is deleted; the older ones and the state file are as they were.
        """
        prefix = os.path.join(self.directory, f"ckpt-{step}")
        try:
            path = self.checkpoint.write(prefix)
        except tf.errors.OpError as e:
            error = files.tf_write_error(e, any_op=True)
            if error is None:  # NotFound: not the disk; TensorFlow's words say what
                raise
            raise self._write_failed(prefix, error.reason) from None
        problem = damage(path)
        if problem is not None:
            raise CheckpointDamagedError(
                f"The checkpoint {path} just written does not read back ({problem}): is the "
                f"disk full or failing? The checkpoints before it are kept: "
                f"{', '.join(self.paths()) or 'none'}."
            )
        older = [p for p in self.paths() if p != path]
        kept = [*older[-(self.keep - 1) :], path] if self.keep > 1 else [path]
        _write_state(self.directory, path, kept)
        for old in older:
            if old not in kept:
                _delete(old)
        return path

    def _write_failed(self, prefix: str, reason: str) -> files.WriteError:
        # What TensorFlow wrote of it goes (it frees the space it took); the state file and
        # the checkpoints before it are as they were.
        kept = self.paths()
        if prefix not in kept:
            for name in tf.io.gfile.glob(prefix + "[._]*"):
                _remove(name)
        return files.WriteError(
            prefix,
            reason,
            advice=f"the checkpoints before it are kept ({', '.join(kept) or 'none'}). Free "
            "space there, then run the same command again to resume from the newest.",
        )

    def restore(self, restore: Callable[[str], object], *, set_aside: bool = True) -> str | None:
        """Restores the newest checkpoint that reads back with `restore(path)`.

        Damaged ones are named and (with `set_aside`: by the one process that writes the
        folder) moved into `DIRECTORY/damaged/` and left out of the state file; the run goes
        on from the one restored, exactly as from any checkpoint.

        Returns:
            The restored checkpoint's prefix, or None when there is none.

        Raises:
            CheckpointDamagedError: there are checkpoints and none reads back.
        """
        paths = self.paths()
        damaged = []
        for path in reversed(paths):
            problem = damage(path)
            if problem is None:
                restore(path)
                if damaged and set_aside:
                    self._set_aside(damaged, paths, path)
                return path
            damaged.append(path)
            self.out(f"The checkpoint {path} is damaged ({problem}); trying the one before.")
        if damaged:
            raise CheckpointDamagedError(
                f"No checkpoint in {self.directory} reads back (damaged: "
                f"{', '.join(os.path.basename(p) for p in damaged)}): pass --overwrite to delete "
                "the run and start over, or a new --logdir."
            )
        return None

    def _set_aside(self, damaged: list[str], paths: list[str], restored: str) -> None:
        # Out of the way of the saves to come, and out of the state file; kept to look at.
        aside = os.path.join(self.directory, DAMAGED_DIR)
        for path in damaged:
            for name in tf.io.gfile.glob(path + ".*"):
                _move(name, os.path.join(aside, os.path.basename(name)))
        _write_state(self.directory, restored, [p for p in paths if p not in damaged])
        self.out(f"Moved the damaged checkpoint(s) into {aside}.")


def _write_state(directory: str, latest: str, paths: list[str]) -> None:
    # The state file as CheckpointManager writes it (text CheckpointState, paths relative to
    # the folder, so that a logdir can move), replaced atomically; TensorFlow's own writer
    # of it is deprecated.
    lines = [f'model_checkpoint_path: "{os.path.basename(latest)}"'] + [
        f'all_model_checkpoint_paths: "{os.path.basename(p)}"' for p in paths
    ]
    state = os.path.join(directory, STATE_FILE)
    with tf.io.gfile.GFile(state + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    tf.io.gfile.rename(state + ".tmp", state, overwrite=True)


def _move(source: str, target: str) -> None:
    # File by file: object stores have no folders to rename.
    if not tf.io.gfile.isdir(source):
        tf.io.gfile.makedirs(os.path.dirname(target))
        tf.io.gfile.rename(source, target, overwrite=True)
        return
    for name in tf.io.gfile.listdir(source):
        name = name.rstrip("/")
        _move(os.path.join(source, name), os.path.join(target, name))
    tf.io.gfile.rmtree(source)


def _remove(name: str) -> None:
    if tf.io.gfile.isdir(name):
        tf.io.gfile.rmtree(name)
    else:
        tf.io.gfile.remove(name)


def _delete(path: str) -> None:
    for name in tf.io.gfile.glob(path + ".*"):
        tf.io.gfile.remove(name)
