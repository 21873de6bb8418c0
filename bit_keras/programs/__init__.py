"""The programs: each a thin module of absl flags and one call into the library, installed as a
console command (`pyproject.toml`'s `[project.scripts]`) and run from a clone by the thin
scripts in `tools/` and `export/`.

| command | module | what it does |
| --- | --- | --- |
| `bit-train` | `train` | fine-tunes with BiT-HyperRule |
| `bit-pretrain` | `pretrain` | pre-trains with BiT's upstream recipe |
| `bit-distill` | `distill` | distils a teacher into a student (function matching) |
| `bit-embed` | `embed` | embeds a data set; the nearest images to a query |
| `bit-fewshot` | `fewshot` | few-shot linear evaluation of frozen features |
| `bit-export-hub` | `export_hub` | a TF Hub SavedModel and its publishing bundle |
| `bit-export-tflite` | `export_tflite` | a TFLite file, checked in LiteRT |
| `bit-predict` | `predict` | the top classes of an image |
| `bit-convert-checkpoint` | `convert_checkpoint` | official `.npz` <-> `.keras`, timm's layout |
| `bit-report` | `report` | a training run's report, again |
| `bit-list-models` | `list_models` | the published models |

What they share is here too: `runner` (flags checked before TensorFlow loads, one-line
errors, Ctrl-C and SIGTERM), `shared_flags` (the flags several programs have, worded once) and
`recipe_program` (a training recipe's flags from its config). The top layer of the import
contract: nothing in bit_keras imports it.
"""
