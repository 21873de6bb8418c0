"""How training stops early: on a signal, or when the loss stops being finite.

Preemptible machines (cloud VMs, TPU pods) send SIGTERM with a short grace period; people
press Ctrl-C. Either one asks the loop to stop after the current step; the loop checkpoints
that step and raises `TrainingInterrupted`. A second signal stops at once. A loss of NaN or
infinity ends the run with `TrainingDivergedError`: its weights are lost, the last checkpoint is
kept.
"""

from __future__ import annotations

import signal


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal after saving a checkpoint.

    Attributes:
        signum: The signal.
        step: The last step trained (and saved).
        checkpoint: The checkpoint's path prefix (None on a non-chief worker).
        rerun: Words that follow "Run the same command again" (" without --overwrite").
        elsewhere: The signal reached another worker of the cluster, not this one.
        exit_status: 128 + the signal number, the shell's convention (130 for Ctrl-C, 143 for
            SIGTERM), on every worker of a cluster alike.
    """

    def __init__(
        self,
        signum: int,
        step: int,
        checkpoint: str | None,
        *,
        rerun: str = "",
        elsewhere: bool = False,
    ):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        self.exit_status = 128 + signum
        where = f"; saved {checkpoint}" if checkpoint else ""
        whom = " to another worker of the cluster" if elsewhere else ""
        super().__init__(
            f"Interrupted by {signal.Signals(signum).name}{whom} after step {step}{where}. "
            f"Run the same command again{rerun} to resume from there."
        )


class TrainingDivergedError(RuntimeError):
    """The loss or the weights stopped being finite; the run ended without saving them.

    Attributes:
        step: The step whose loss (or, at a checkpoint, whose weights) was not finite.
        loss: That step's loss.
        learning_rate: The learning rate of that step.
        checkpoint: The last checkpoint saved before it (None if none was).
    """

    def __init__(
        self,
        step: int,
        loss: float,
        learning_rate: float,
        checkpoint: str | None,
        *,
        advice: str,
        weights: bool = False,
    ):
        self.step, self.loss, self.learning_rate = step, loss, learning_rate
        self.checkpoint = checkpoint
        kept = (
            f"the last good checkpoint, {checkpoint}, is kept (a rerun resumes there)"
            if checkpoint
            else "no checkpoint was saved before it"
        )
        what = (
            f"The weights are not finite after step {step} (loss {loss:.6g}"
            if weights
            else f"The loss is {loss} at step {step} ("
        )
        super().__init__(
            f"{what}{', ' if weights else ''}learning rate {learning_rate:.6g}): training "
            f"diverged and stopped; {kept}. {advice}"
        )


class _UnreadableBatchError(RuntimeError):
    """Training could not read the batch of a step; the run saved a checkpoint of the steps
    before it and stopped, as an interrupt does.

    Attributes:
        step: The step whose batch could not be read (not trained).
        checkpoint: The checkpoint a rerun resumes from (None if none was saved).
    """

    def __init__(self, problem: str, advice: str, step: int, checkpoint: str | None, rerun: str):
        self.step, self.checkpoint = step, checkpoint
        kept = f"saved {checkpoint}" if checkpoint else "no checkpoint to resume from yet"
        super().__init__(
            f"{problem}; training met it in the batch of step {step} and stopped ({kept}). "
            f"{advice}, then run the same command again{rerun} to resume."
        )


class DamagedFileError(_UnreadableBatchError):
    """A record file of the data set (TFDS) is missing, cut short or damaged.

    Attributes:
        problem: The file and what was wrong with it.
    """

    def __init__(self, problem: str, step: int, checkpoint: str | None, *, rerun: str = ""):
        self.problem = problem
        advice = "Copy the file again or prepare the data set again"
        super().__init__(problem, advice, step, checkpoint, rerun)


class UndecodableImageError(_UnreadableBatchError):
    """A training image did not decode (`--image_check=header`).

    Attributes:
        path: The image file.
    """

    def __init__(self, path: str, step: int, checkpoint: str | None, *, rerun: str = ""):
        self.path = path
        problem = f"Image {path} does not decode (cut short or damaged)"
        advice = "Replace or remove the file, or pass --skip_bad_images to leave it out"
        super().__init__(problem, advice, step, checkpoint, rerun)


class WorkerLostError(RuntimeError):
    """Another worker of the cluster was lost mid-run (killed, its host gone, or no longer
    answering): the collectives every step needs cannot complete, so the run ends. A worker
    that stops answering is found by TensorFlow's heartbeats (about 10 s).

    Attributes:
        step: The step that could not complete.
        lost: The lost task in words (`worker 1`), or None where TensorFlow did not say.
        checkpoint: The chief's last checkpoint, which a restart resumes from (None if none).
    """

    def __init__(self, step: int, lost: str | None, checkpoint: str | None, why: str):
        self.step, self.lost, self.checkpoint = step, lost, checkpoint
        kept = (
            f"the last checkpoint is {checkpoint}"
            if checkpoint
            else "no checkpoint was saved yet (a restart starts over)"
        )
        super().__init__(
            f"Lost {lost or 'another worker'} of the cluster at step {step} ({why}); {kept}. "
            "Start every worker again with the same command to resume from it."
        )
