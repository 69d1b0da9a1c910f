"""LoRA fine-tuning of LLaVA to rate scene patches: from the rule to the trained adapter.

The path (one process boundary: torchrun)::

    rule finetune (rules/finetune.smk)
      -> scripts/finetune.py           writes the run's spec (models/<fold>/spec.json)
      -> launch.launch                 run digest, old checkpoints discarded, torchrun (srun across nodes)
      -> python -m meaningmaps.model.finetune   on every rank (__main__.py)
      -> train.train                   model, data, Trainer, train, save

The modules: ``launch`` (the torchrun or srun command of a run, run to the end), ``train`` (one
rank, top to bottom), and in the order ``train`` uses them:

* ``spec``: :class:`FinetuneSpec`, one run as a JSON file; the output layout.
* ``settings``: :class:`FinetuneSettings`, the ``model.finetune`` keys, typed (the config schema is their source).
* ``data``: the question-answer rows, one example's tokens and labels (loss on the answer), padding.
* ``checkpoints``: the run digest, and which checkpoints a run may resume.
* ``distributed``: this rank in the job; gloo on a CPU.
* ``arguments``: the Trainer's arguments and the DeepSpeed config.
* ``lora``: what is trained (LoRA on the language model, the projector) and activation checkpointing.
* ``trainer``: the Trainer with two learning rates; the progress log.
* ``outputs``: what a finished run leaves (adapter and card, loss curve, run_info.json).
* ``loss_curve``: the loss table and plot, and the label-frequency reference loss.
* ``testing_hooks``: tests only (a job that dies after a checkpoint); imported only when a test asks.

Nothing is imported here: ``spec``, ``settings``, ``checkpoints``, ``data`` and ``launch`` need no
torch; ``train`` and the modules only it uses import torch, transformers, peft and accelerate.
"""
