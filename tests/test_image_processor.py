"""The image processor is always the PIL one (LLaVA resized with PIL bicubic), even where transformers
5 would pick the torchvision one: it does whenever torchvision is installed. This venv has no
torchvision (its PyPI wheel does not fit the local torch build), so the tests make transformers
believe it is installed and check which backend our loaders resolve to."""

from __future__ import annotations

import pytest

from meaningmaps.model.loading import image_processor_name, load_processor


@pytest.fixture
def torchvision_installed(monkeypatch):
    """transformers' backend choice as on a machine with torchvision; records what it resolves."""
    import transformers.models.auto.image_processing_auto as auto

    resolved = []
    real = auto._resolve_backend

    def spy(*args):
        resolved.append(real(*args))
        return resolved[-1]

    monkeypatch.setattr(auto, "is_torchvision_available", lambda: True)
    monkeypatch.setattr(auto, "_resolve_backend", spy)
    return resolved


def test_transformers_would_pick_torchvision(tiny_llava_dir, torchvision_installed):
    from transformers import AutoProcessor

    AutoProcessor.from_pretrained(str(tiny_llava_dir))
    assert torchvision_installed == ["torchvision"]


def test_our_loader_picks_the_pil_processor_even_so(tiny_llava_dir, torchvision_installed):
    processor = load_processor(str(tiny_llava_dir))
    assert torchvision_installed == ["pil"]
    assert image_processor_name(processor) == "CLIPImageProcessorPil (pil)"
    assert processor.image_processor.resample == 3  # PIL.Image.BICUBIC, as CLIP's (and LLaVA's) processor


def test_training_and_merging_load_the_pil_processor_too():
    """finetune and merge load their processor with the same keyword as load_processor."""
    import inspect

    from meaningmaps.model import merge
    from meaningmaps.model.finetune import train

    for module in (train, merge):
        src = inspect.getsource(module)
        assert "AutoProcessor.from_pretrained(" in src
        assert all("**PROCESSOR_KWARGS" in line for line in src.splitlines() if "AutoProcessor.from_pretrained(" in line)
