"""TFDS splits read from their record files: each input pipeline its own files, an exact
resume that reads one window (TFRecord) or only what it uses (ArrayRecord)."""

import numpy as np
import pytest
import tensorflow as tf
from sharded_tfds import FILES, NAME, TRAIN_SIZE, prepare

from bit_keras import data
from bit_keras.data import pipeline as data_pipeline
from bit_keras.data.record_files import FileSlice, damaged_file, windowed_order

FORMATS = ("tfrecord", "array_record")


@pytest.fixture(scope="module", params=FORMATS)
def prepared(request, tmp_path_factory):
    """(data_dir, format): the data set prepared in `FILES` files of that format."""
    return prepare(str(tmp_path_factory.mktemp(request.param)), request.param), request.param


def _source(prepared):
    return data.load_source(NAME, prepared[0], download=False)


def _ids(examples, key=1, start=0, count=None):
    count = examples.size if count is None else count
    return [
        (int(x[0, 0, 0]), int(y), int(p)) for x, y, p in examples.ordered(key, start).take(count)
    ]


def test_the_split_is_read_from_its_files_by_its_metadata(prepared):
    examples = _source(prepared).train_examples()
    assert examples.files is not None and examples.size == TRAIN_SIZE
    assert len(examples.files.files) == FILES
    assert (examples.files.fetch is not None) == (prepared[1] == "array_record")
    epoch = _ids(examples)
    assert sorted(i for i, _, _ in epoch) == list(range(TRAIN_SIZE))  # each once
    assert all(label == i % 3 for i, label, _ in epoch)
    assert [p for _, _, p in epoch] == list(range(TRAIN_SIZE))
    assert [i for i, _, _ in epoch] != list(range(TRAIN_SIZE))  # shuffled


def test_a_subset_few_shot_draws_keeps_those_examples_in_the_split_order(prepared):
    source = _source(prepared)
    stored = [int(x[0, 0, 0]) for x, _ in source.train()]  # TFDS' order in its files
    assert sorted(stored) == list(range(TRAIN_SIZE))
    assert source.train_labels().tolist() == [i % 3 for i in stored]
    chosen = source.train_examples().subset(np.array([0, 7, 31, 59]))
    assert sorted(i for i, _, _ in _ids(chosen)) == sorted(stored[k] for k in (0, 7, 31, 59))


@pytest.mark.parametrize("pipelines", [2, 4])
def test_pipelines_read_disjoint_files_that_together_hold_every_example(prepared, pipelines):
    examples = _source(prepared).train_examples()
    shards = [examples.shard(pipelines, i) for i in range(pipelines)]
    files = [{f.path for f in shard.files.files} for shard in shards]
    assert sum(len(f) for f in files) == FILES and len(set().union(*files)) == FILES
    seen = [[i for i, _, _ in _ids(shard)] for shard in shards]
    assert sorted(i for s in seen for i in s) == list(range(TRAIN_SIZE))
    assert [len(s) for s in seen] == [shard.size for shard in shards]


def test_evaluation_pipelines_read_their_own_part_of_the_test_files(prepared):
    import tensorflow_datasets as tfds

    source, seen = _source(prepared), []
    for index in range(2):
        context = tf.distribute.InputContext(2, index, 2)
        batches = data.eval_dataset(
            source.test, size=source.test_size, batch_size=4, crop=8, input_context=context
        )
        seen.append([int(y) for _, ys, mask in batches for y, m in zip(ys, mask, strict=True) if m])
    assert [len(s) for s in seen] == [6, 6]
    assert sorted(seen[0] + seen[1]) == sorted(i % 3 for i in range(100, 112))
    # Each half is a TFDS sub-split that TFDS reads from 3 of the 6 files.
    builder = tfds.builder(NAME, data_dir=prepared[0])
    parts = [builder.info.splits[f"test[{a}:{b}]"].file_instructions for a, b in ((0, 6), (6, 12))]
    assert [len(p) for p in parts] == [3, 3]
    assert not {i.filename for i in parts[0]} & {i.filename for i in parts[1]}


def test_fewer_files_than_pipelines_is_one_clear_error(prepared):
    with pytest.raises(
        ValueError,
        match=r"split 'train', is stored in 6 file\(s\), fewer than "
        r"the 8 input pipelines.*--num_shards=8",
    ):
        _source(prepared).train_examples().shard(8, 0)


def test_batches_after_a_resume_equal_the_uninterrupted_run(prepared, monkeypatch):
    # Windows of 2 files (20 examples): resumes inside the first, a later and the next epoch.
    monkeypatch.setattr(data_pipeline, "SHUFFLE_BUFFER", 20)
    source = _source(prepared)
    context = tf.distribute.InputContext(2, 1, 2)

    def batches(start_step, steps):
        ds = data.train_dataset(
            source.train_examples(),
            batch_size=3,
            resize=None,
            crop=4,
            num_classes=3,
            mixup_alpha=0.2,
            seed=3,
            start_step=start_step,
            input_context=context,
        )
        return [(x.numpy(), y.numpy()) for x, y in ds.take(steps)]

    whole = batches(0, 25)  # 30 examples a pipeline: two and a half epochs
    for start in (1, 7, 12, 19):
        for (x, y), (xr, yr) in zip(whole[start:], batches(start, 25 - start), strict=True):
            np.testing.assert_array_equal(x, xr)
            np.testing.assert_array_equal(y, yr)


@pytest.mark.parametrize("prepared", ["tfrecord"], indirect=True)
def test_a_tfrecord_file_cut_short_is_named(prepared, tmp_path):
    import shutil

    data_dir = tmp_path / "copy"
    shutil.copytree(prepared[0], data_dir)
    shard = sorted((data_dir / NAME / "1.0.0").glob("*train.tfrecord*"))[2]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    examples = data.load_source(NAME, str(data_dir)).train_examples()
    with pytest.raises(tf.errors.OpError) as error:
        _ids(examples)
    assert damaged_file(error.value) == (
        f"Record file {shard} of TFDS dataset {NAME!r}, split 'train' is missing, cut short or "
        "damaged: 4 of its 10 records read"
    )
    assert damaged_file(ValueError("another error")) is None


def test_a_missing_file_is_named_with_its_split(prepared, tmp_path):
    import shutil

    data_dir = tmp_path / "copy"
    shutil.copytree(prepared[0], data_dir)
    shard = sorted((data_dir / NAME / "1.0.0").glob("*-train.*"))[4]
    shard.unlink()
    examples = data.load_source(NAME, str(data_dir)).train_examples()
    with pytest.raises(ValueError, match=f"split 'train', is missing 1 of its 6 files: .*{shard}"):
        examples.ordered(key=0)  # checked by the pipeline that reads them
    examples.shard(2, 1).ordered(key=0)  # files 1, 3, 5: another pipeline's file goes unchecked
    with pytest.raises(ValueError, match=f"is missing 1 of its 3 files: .*{shard}"):
        examples.shard(2, 0).ordered(key=0)


def _logged_files(log):
    """A `read` of made-up files ("f3" holds "f3:0", "f3:1", ...) that logs which it opens."""

    def opened(path):
        log.append(path.numpy().decode())
        return path

    def read(path, skip, take):
        path = tf.py_function(opened, [path], tf.string)
        return tf.data.Dataset.range(skip, skip + take).map(
            lambda i: tf.strings.join([path, tf.strings.as_string(i)], ":")
        )

    return read


def _number(records):
    return tf.strings.to_number(tf.strings.split(records, ":").values[1::2], tf.int64)


def test_a_resume_reads_the_window_it_starts_in_and_nothing_before():
    files = [FileSlice(f"f{i}", 0, 10) for i in range(20)]  # 10 windows of 2 files
    log = []
    read = _logged_files(log)
    whole = windowed_order(files, read, _number, files_per_window=2, key=9)
    first = [(r.numpy(), int(p)) for r, label, p in whole.take(400)]
    labels = [int(label) for _, label, _ in whole.take(20)]
    assert labels == [int(r.split(b":")[1]) for r, _ in first[:20]]  # each record's own
    assert sorted(r for r, _ in first[:200]) == sorted(r for r, _ in first[200:])  # epochs
    for start in (5, 125, 199, 200, 333):
        log.clear()
        resumed = windowed_order(files, read, _number, files_per_window=2, key=9, start=start)
        got = [(r.numpy(), int(p)) for r, _, p in resumed.take(4)]
        assert got == first[start : start + 4]
        # The window holding `start` and at most the two after it (one read ahead, one
        # being read); none before it.
        k = start // 20
        window, *ahead = (_files_of(first[20 * w : 20 * w + 20]) for w in (k, k + 1, k + 2))
        assert window <= set(log) <= window.union(*ahead), (start, log)


def _files_of(records):
    return {r.split(b":")[0].decode() for r, _ in records}


@pytest.mark.parametrize("prepared", ["tfrecord"], indirect=True)
def test_record_files_on_another_filesystem_read_the_same(prepared):
    # TFDS itself reads gs:// data dirs (etils); bit_keras' reading of the files goes through
    # tf.data and tf.io.gfile, which ram:// stands in for here (TFDS' etils has no ram://).
    import dataclasses
    import uuid

    examples = _source(prepared).train_examples()
    root = f"ram://bit_keras_{uuid.uuid4().hex}"
    moved = []
    for f in examples.files.files:
        remote = f"{root}/{f.path.rsplit('/', 1)[1]}"
        tf.io.gfile.makedirs(root)
        tf.io.gfile.copy(f.path, remote)
        moved.append(dataclasses.replace(f, path=remote))
    there = dataclasses.replace(
        examples, files=dataclasses.replace(examples.files, files=tuple(moved))
    )
    assert _ids(there, start=17, count=50) == _ids(examples, start=17, count=50)
    tf.io.gfile.rmtree(root)
