"""Test hooks that stand in for a job dying mid-training, driven by the environment. Imported only
when a test sets one of the variables (:func:`meaningmaps.model.finetune.train.callbacks_for_tests`):

* ``MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE=<step>``: exit hard (no clean-up) right after the
  checkpoint of that step is saved;
* ``MEANINGMAPS_FINETUNE_PAUSE_AFTER_SAVE=<step>``: rank 0 prints "paused after saving step N" and
  sleeps (up to 10 minutes) once that checkpoint is saved, so a test can SIGKILL the job mid-run.
"""

from __future__ import annotations

import os
import sys
import time

from transformers import TrainerCallback

ABORT_ENV = "MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE"
PAUSE_ENV = "MEANINGMAPS_FINETUNE_PAUSE_AFTER_SAVE"
VARIABLES = (ABORT_ENV, PAUSE_ENV)


class AbortAfterSave(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            print(f"[meaningmaps.model.finetune] {ABORT_ENV}={self.step}: aborting after saving step "
                  f"{state.global_step}", flush=True)
            sys.stderr.flush()
            os._exit(75)


class PauseAfterSave(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.step and state.is_world_process_zero:
            print(f"[meaningmaps.model.finetune] {PAUSE_ENV}={self.step}: paused after saving step "
                  f"{state.global_step} (pid {os.getpid()})", flush=True)
            time.sleep(600)


def callbacks() -> list:
    """The hooks the environment asks for."""
    hooks = []
    if os.environ.get(ABORT_ENV):
        hooks.append(AbortAfterSave(int(os.environ[ABORT_ENV])))
    if os.environ.get(PAUSE_ENV):
        hooks.append(PauseAfterSave(int(os.environ[PAUSE_ENV])))
    return hooks
