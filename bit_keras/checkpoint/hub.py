"""Weights on the Hugging Face Hub: `hf-hub:ORG/NAME[@REVISION]`, in timm's layout.

timm's BiT repositories (`timm/resnetv2_50x1_bit.goog_in21k` and the others) and anyone's in
the same layout hold `model.safetensors` and timm's `config.json`. They are downloaded with
`huggingface_hub` into its own cache (`$HF_HUB_CACHE`, by default
`~/.cache/huggingface/hub`), so a file fetched by timm or transformers is not fetched again.
With `HF_HUB_OFFLINE=1` nothing is downloaded: a cached file is used, a missing one is an error
naming the repository and the cache.

The cache keeps each file under the hash the Hub names it by (`blobs/<etag>`): SHA-256 for
files in Git LFS (every `model.safetensors`), Git's SHA-1 for small files. Each file is checked
against that hash before it is read, online or offline, so a truncated or altered file is
refused with its path. (On file systems without symbolic links huggingface_hub copies files
out of `blobs/`, and no hash is left to check against.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re

from bit_keras.checkpoint.fetch import CheckpointDownloadError
from bit_keras.checkpoint.npz_file import CheckpointError

# The prefix timm uses for the same thing: timm.create_model("hf-hub:timm/...").
HUB_PREFIX = "hf-hub:"
# The files of timm's Hub layout: the weights (never a pickle) and timm's config.
SAFETENSORS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# The Hub's rules for an owner or repository name (huggingface_hub.utils.validate_repo_id).
_NAME_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")
_CHUNK = 1 << 24
# Files checked in this process, by (path, size, modification time): hashed once each.
_CHECKED: set[tuple[str, int, int]] = set()


@dataclasses.dataclass(frozen=True)
class HubName:
    """A parsed `hf-hub:ORG/NAME[@REVISION]`.

    Attributes:
        repo_id: `ORG/NAME`, e.g. `timm/resnetv2_50x1_bit.goog_in21k`.
        revision: A branch, tag or commit; None for the default branch.
    """

    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        return f"{HUB_PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")

    @property
    def name(self) -> str:
        """The repository's name without its owner (`resnetv2_50x1_bit.goog_in21k`)."""
        return self.repo_id.split("/", 1)[1]


def is_hub_name(source) -> bool:
    """Whether `source` is an `hf-hub:` name (checked for form by `parse_hub_name`)."""
    return isinstance(source, str) and source.startswith(HUB_PREFIX)


def is_timm_source(source) -> bool:
    """Whether `source` names weights in timm's layout: an `hf-hub:` name, a `.safetensors`
    file, or a folder holding `model.safetensors`."""
    if is_hub_name(source):
        return True
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = os.fspath(source)
    return path.endswith(".safetensors") or os.path.isfile(os.path.join(path, SAFETENSORS_FILE))


def parse_hub_name(source: str) -> HubName:
    """Parses `hf-hub:ORG/NAME[@REVISION]`, without any download.

    Raises:
        ValueError: not of that form, naming what is wrong.
    """
    if not is_hub_name(source):
        raise ValueError(f"Expected {HUB_PREFIX}ORG/NAME[@REVISION]. Received: {source!r}")
    repo_id, at, revision = source[len(HUB_PREFIX) :].partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_NAME_PART.fullmatch(p) and ".." not in p for p in parts):
        raise ValueError(
            f"{source!r} does not name a Hugging Face Hub repository: expected "
            f"{HUB_PREFIX}ORG/NAME[@REVISION], e.g. {HUB_PREFIX}timm/resnetv2_50x1_bit.goog_in21k "
            "(letters, digits, '-', '_' and '.' in each part)."
        )
    if at and not revision.strip():
        raise ValueError(f"{source!r} has an empty revision after '@'.")
    return HubName(repo_id, revision or None)


def hub_cache_dir() -> str:
    """The Hugging Face cache huggingface_hub downloads into ($HF_HUB_CACHE, $HF_HOME/hub)."""
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def is_offline() -> bool:
    """Whether `HF_HUB_OFFLINE` was set when huggingface_hub was first imported."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def download_from_hub(source: str | HubName, filename: str = SAFETENSORS_FILE) -> str:
    """The local path of a file of a Hub repository, downloaded into the Hugging Face cache
    once and checked against the Hub's hash of it.

    Args:
        source: `hf-hub:ORG/NAME[@REVISION]`, or its `HubName`.
        filename: The file in the repository.

    Raises:
        CheckpointDownloadError: the file is not cached and cannot be downloaded (offline, no
            network, no such repository, revision or file); one line naming the repository,
            the file and the cache.
        CheckpointError: the file does not match the Hub's hash of it.
        ValueError: `source` is not an `hf-hub:` name.
    """
    name = source if isinstance(source, HubName) else parse_hub_name(source)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{filename} of {name}"
    cache = hub_cache_dir()
    try:
        path = hf_hub_download(
            name.repo_id, filename, revision=name.revision, library_name="bit_keras"
        )
    except LocalEntryNotFoundError as e:  # not cached, and offline or the Hub unreachable
        reason = (
            "HF_HUB_OFFLINE is set"
            if is_offline()
            else f"the Hub could not be reached ({_first_line(e)})"
        )
        raise CheckpointDownloadError(
            f"{where} is not in the Hugging Face cache {cache} and {reason}: download it once "
            "with network access (it is kept in that cache), or give a local file instead."
        ) from e
    except GatedRepoError as e:
        raise CheckpointDownloadError(
            f"{name.repo_id} is gated: accept its terms on huggingface.co and log in "
            "(`hf auth login`, or HF_TOKEN)."
        ) from e
    except RepositoryNotFoundError as e:
        raise CheckpointDownloadError(
            f"No Hugging Face Hub repository {name.repo_id!r} (or it is private: log in with "
            "`hf auth login`, or set HF_TOKEN)."
        ) from e
    except RevisionNotFoundError as e:
        raise CheckpointDownloadError(
            f"{name.repo_id} has no revision {name.revision!r} (a branch, tag or commit)."
        ) from e
    except EntryNotFoundError as e:
        pickled = " bit_keras reads model.safetensors only, never a pickled pytorch_model.bin."
        raise CheckpointDownloadError(
            f"{name} has no {filename}." + (pickled if filename == SAFETENSORS_FILE else "")
        ) from e
    except OSError as e:  # network and HTTP errors (huggingface_hub's are OSErrors)
        raise CheckpointDownloadError(
            f"Could not download {where} ({_first_line(e)}). Without network access, fill the "
            f"Hugging Face cache {cache} on another machine (or give a local file)."
        ) from e
    check_cached_file(path)
    return path


def cached_repo_id(folder: str | os.PathLike) -> str | None:
    """`ORG/NAME` of a snapshot folder of the Hugging Face cache
    (`.../models--ORG--NAME/snapshots/<commit>`), None for any other folder."""
    snapshots = os.path.dirname(os.path.abspath(folder))
    repo = os.path.basename(os.path.dirname(snapshots))
    if os.path.basename(snapshots) != "snapshots" or not repo.startswith("models--"):
        return None
    owner, _, name = repo.removeprefix("models--").partition("--")
    return f"{owner}/{name}" if owner and name else None


def check_cached_file(path: str | os.PathLike) -> None:
    """Checks a file of the Hugging Face cache against the hash its blob is named by.

    Raises:
        CheckpointError: the content does not match (a damaged or altered download).
    """
    blob = os.path.realpath(path)
    expected = os.path.basename(blob)
    stat = os.stat(blob)
    key = (blob, stat.st_size, stat.st_mtime_ns)
    if key in _CHECKED:
        return
    if _SHA256.fullmatch(expected):
        digest, kind = hashlib.sha256(), "SHA-256"
    elif _GIT_SHA1.fullmatch(expected):  # Git's blob hash: "blob <size>\0" + content
        digest, kind = hashlib.sha1(f"blob {stat.st_size}\0".encode()), "Git SHA-1"
    else:
        return  # copied out of blobs/: nothing to check against
    with open(blob, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise CheckpointError(
            f"{os.fspath(path)!r} does not match the Hub's {kind} of it ({expected}; the file "
            f"has {digest.hexdigest()}): the download is damaged or was altered. Delete {blob} "
            "and load it again."
        )
    _CHECKED.add(key)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
