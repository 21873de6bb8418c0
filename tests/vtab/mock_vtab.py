"""`bit-vtab` on TFDS' mock data (`tfds.testing.mock_data`): its arguments are bit-vtab's.

Mock data is offline and the same in every process: `MOCK_EXAMPLES` random examples in every
split (the train and test splits alike), in each data set's own features and shapes."""

import tensorflow_datasets as tfds

from bit_keras.programs.vtab import main

MOCK_EXAMPLES = 24

if __name__ == "__main__":
    with tfds.testing.mock_data(num_examples=MOCK_EXAMPLES):
        main()
