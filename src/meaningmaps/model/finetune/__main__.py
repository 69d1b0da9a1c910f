"""``python -m meaningmaps.model.finetune --spec spec.json``: one rank of a fine-tuning run (what
torchrun starts, see :mod:`meaningmaps.model.finetune.launch`)."""

from .train import main

if __name__ == "__main__":
    main()
