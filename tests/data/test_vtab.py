"""The 19 VTAB-1k tasks: their splits against the sizes of the real data sets, their labels at
the edges of their bins, and a task read as a data source (TFDS' mock data, offline)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from bit_keras.data import load_source
from bit_keras.data.names import check_dataset_name
from bit_keras.data.vtab_tasks import (
    GROUPS,
    TASK_NAMES,
    TASKS,
    clevr_count,
    clevr_distance,
    get_task,
    kitti_distance,
    label_function,
    select_tasks,
    split_size,
)

# The TFDS splits of each data set (TFDS' catalog, the versions the tasks read).
COUNTS = {
    "caltech101": {"train": 3060, "test": 6084},
    "cifar100": {"train": 50000, "test": 10000},
    "dtd": {"train": 1880, "validation": 1880, "test": 1880},
    "oxford_flowers102": {"train": 1020, "validation": 1020, "test": 6149},
    "oxford_iiit_pet": {"train": 3680, "test": 3669},
    "sun397/tfds": {"train": 76128, "validation": 10875, "test": 21750},
    "svhn_cropped": {"train": 73257, "test": 26032, "extra": 531131},
    "patch_camelyon": {"train": 262144, "validation": 32768, "test": 32768},
    "eurosat/rgb": {"train": 27000},
    "resisc45": {"train": 31500},
    "diabetic_retinopathy_detection/btgraham-300": {
        "train": 35126,
        "validation": 10906,
        "test": 42670,
        "sample": 10,
    },
    "clevr": {"train": 70000, "validation": 15000, "test": 15000},
    "dmlab": {"train": 65550, "validation": 22628, "test": 22735},
    "dsprites": {"train": 737280},
    "kitti": {"train": 6347, "validation": 423, "test": 711},
    "smallnorb": {"train": 24300, "test": 24300},
}

# task -> (val200, test, test size): task_adaptation's formulas worked out by hand on
# COUNTS; the test sizes are the VTAB paper's (Zhai et al. 2019, its table of data sets).
EXPECTED = {
    "caltech101": ("train[2754:2954]", "test", 6084),  # 90% of 3,060
    "cifar100": ("train[45000:45200]", "test", 10000),  # 90% of 50,000
    "dtd": ("validation[:200]", "test", 1880),
    "oxford_flowers102": ("validation[:200]", "test", 6149),
    "oxford_iiit_pet": ("train[2944:3144]", "test", 3669),  # 80% of 3,680
    "sun397": ("validation[:200]", "test", 21750),
    "svhn": ("train[65931:66131]", "test", 26032),  # 90% of 73,257, rounded down
    "patch_camelyon": ("validation[:200]", "test", 32768),
    "eurosat": ("train[16200:16400]", "train[21600:]", 5400),  # 60/20/20 of 27,000
    "resisc45": ("train[18900:19100]", "train[25200:]", 6300),  # 60/20/20 of 31,500
    "diabetic_retinopathy": ("validation[:200]", "test", 42670),
    "clevr-count": ("train[63000:63200]", "validation", 15000),  # test: CLEVR's validation
    "clevr-distance": ("train[63000:63200]", "validation", 15000),
    "dmlab": ("validation[:200]", "test", 22735),
    "dsprites-xpos": ("train[589824:590024]", "train[663552:]", 73728),  # 80/10/10
    "dsprites-orientation": ("train[589824:590024]", "train[663552:]", 73728),
    "kitti-distance": ("validation[:200]", "test", 711),
    "smallnorb-azimuth": ("test[:200]", "test[12150:]", 12150),  # test[50%:]
    "smallnorb-elevation": ("test[:200]", "test[12150:]", 12150),
}


def test_the_nineteen_tasks_in_vtab_order():
    assert len(TASKS) == 19 == len(set(TASK_NAMES))
    assert [sum(t.group == g for t in TASKS) for g in GROUPS] == [7, 4, 8]
    assert [t.group for t in TASKS] == sorted((t.group for t in TASKS), key=GROUPS.index)
    assert all(t.source.startswith("task_adaptation/data/") for t in TASKS)
    assert sorted(EXPECTED) == sorted(TASK_NAMES)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_splits_resolve_to_the_right_slices_and_sizes(name):
    task = get_task(name)
    counts = COUNTS[task.tfds_name]
    splits = task.splits.resolve(counts)
    val200, test, test_size = EXPECTED[name]
    assert splits == {
        "train800": "train[:800]",
        "val200": val200,
        "train800val200": f"train[:800]+{val200}",
        "test": test,
    }
    sizes = {split: split_size(spec, counts) for split, spec in splits.items()}
    assert sizes == {"train800": 800, "val200": 200, "train800val200": 1000, "test": test_size}


def test_split_size_counts_each_part():
    counts = {"train": 1000, "test": 50}
    assert split_size("train", counts) == 1000
    assert split_size("train[990:]+test[:20]", counts) == 30
    assert split_size("train[995:1100]", counts) == 5  # a slice past the end stops there
    with pytest.raises(ValueError, match="Cannot size split 'train\\[1%:\\]'"):
        split_size("train[1%:]", counts)


def _objects(**columns):
    return {"objects": {k: tf.constant(v, tf.float32) for k, v in columns.items()}}


def test_clevr_count_is_objects_less_three():
    for n, label in ((3, 0), (4, 1), (10, 7)):
        assert int(clevr_count(_objects(size=[0.0] * n))) == label


@pytest.mark.parametrize(
    ("depths", "label"),
    [
        ([8.0, 12.0], 0),  # the closest decides; a bin holds its upper edge
        ([0.5], 0),
        ([8.0001, 30.0], 1),
        ([8.5], 1),
        ([8.51], 2),
        ([9.5], 3),
        ([10.0], 4),
        ([10.01, 11.0], 5),
        ([99.0], 5),
    ],
)
def test_clevr_distance_bins_the_closest_depth(depths, label):
    coords = [[100.0, 100.0, d] for d in depths]
    assert int(clevr_distance(_objects(pixel_coords=coords))) == label


@pytest.mark.parametrize(
    ("types", "depths", "label"),
    [
        ([0], [8.0], 0),  # a car at 8 m: the first bin holds its upper edge
        ([1], [8.1], 1),  # a van
        ([2, 0], [20.0, 35.0], 1),  # a truck decides: the closest vehicle
        ([0], [20.5], 2),
        ([0], [998.0], 2),
        ([3, 0], [2.0, 30.0], 2),  # a pedestrian (type 3) closer than the car does not count
        ([3, 5], [2.0, 4.0], 3),  # no vehicle at all
        ([], [], 3),  # nothing annotated
    ],
)
def test_kitti_distance_bins_the_closest_vehicle(types, depths, label):
    example = {
        "objects": {
            "type": tf.constant(types, tf.int64),
            "location": tf.reshape(
                tf.constant([[1.0, 1.0, d] for d in depths], tf.float32), (-1, 3)
            ),
        }
    }
    assert int(kitti_distance(example)) == label


@pytest.mark.parametrize(
    ("task", "classes", "pairs"),
    [
        ("dsprites-xpos", 32, [(0, 0), (1, 0), (2, 1), (30, 15), (31, 15)]),
        # 40 orientations / 16 = 2.5 each: 2 -> 0, 3 -> 1 (1.2), 5 -> 2 (exactly), 37 -> 14
        ("dsprites-orientation", 40, [(0, 0), (2, 0), (3, 1), (5, 2), (37, 14), (39, 15)]),
    ],
)
def test_dsprites_bins_into_sixteen_classes(task, classes, pairs):
    task = get_task(task)
    label = label_function(task, classes)
    for value, expected in pairs:
        assert int(label({task.label: tf.constant(value, tf.int64)})) == expected
    with pytest.raises(ValueError, match="pass its number of classes"):
        label_function(task)


def test_smallnorb_labels_are_the_feature_as_it_is():
    for name, key in (
        ("smallnorb-azimuth", "label_azimuth"),
        ("smallnorb-elevation", "label_elevation"),
    ):
        label = label_function(get_task(name))
        assert int(label({key: tf.constant(7, tf.int64)})) == 7


def test_select_tasks_by_name_and_group():
    assert select_tasks(None) == TASKS
    assert [t.name for t in select_tasks("dtd, clevr-count,dtd")] == ["dtd", "clevr-count"]
    chosen = [t.name for t in select_tasks("specialized")]
    assert chosen == ["patch_camelyon", "eurosat", "resisc45", "diabetic_retinopathy"]


def test_an_unknown_task_names_close_ones():
    with pytest.raises(
        ValueError, match=r"Unknown VTAB-1k task 'clevr-cont'\. Did you mean clevr-count\?"
    ):
        select_tasks("dtd,clevr-cont")
    with pytest.raises(
        ValueError, match=r"Unknown VTAB-1k task 'dsprite'\. Did you mean dsprites-"
    ):
        check_dataset_name("vtab:dsprite")
    check_dataset_name("vtab:smallnorb-azimuth")


def test_a_task_reads_as_a_data_source():
    n = 12
    with tfds.testing.mock_data(num_examples=n):
        source = load_source("vtab:dsprites-xpos", data_dir="/nonexistent")
        raw = tfds.builder("dsprites:2.*.*").as_dataset(split="train")
        x_positions = np.array([int(ex["label_x_position"]) for ex in raw])
        test_images = [image.numpy() for image, _ in source.test()]
    assert source.name == "vtab:dsprites-xpos"
    assert (source.num_classes, source.image_size) == (16, (64, 64))
    assert (source.train_size, source.test_size) == (n, n)  # mock data: n in every split
    assert source.class_names == tuple(str(i) for i in range(16))
    # The labels are the x-positions binned (mock data gives every split the same examples).
    np.testing.assert_array_equal(source.train_labels(), x_positions // 2)
    # Gray images, repeated to RGB.
    assert all(im.shape == (64, 64, 3) and (im == im[..., :1]).all() for im in test_images)
    assert len(test_images) == n


def test_data_that_is_not_prepared_says_how_to_prepare_it(tmp_path):
    with pytest.raises(ValueError) as e:
        load_source("vtab:dtd", str(tmp_path), download=False)
    assert str(e.value) == (
        f"VTAB task dtd needs TFDS dataset 'dtd:3.*.*', which is not prepared in "
        f"'{tmp_path}', and --nodownload forbids fetching it. Prepare it where there is network "
        f"access (`tfds build dtd --data_dir={tmp_path}`) and pass --data_dir={tmp_path}."
    )


@pytest.mark.parametrize("task", ["resisc45", "diabetic_retinopathy"])
def test_a_manual_download_says_where_its_files_go(tmp_path, task):
    manual = tmp_path / "downloads" / "manual"
    with pytest.raises(ValueError) as e:
        load_source(f"vtab:{task}", str(tmp_path))  # downloads allowed: still nothing to do
    message = str(e.value)
    assert message.startswith(f"VTAB task {task} needs TFDS dataset ")
    assert f"TFDS cannot download its files: put them in {manual} (" in message
    assert f"--manual_dir={manual}`." in message
    assert not (tmp_path / get_task(task).tfds_name.split("/")[0]).exists()  # nothing begun
