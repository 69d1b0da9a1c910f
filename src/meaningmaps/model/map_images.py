"""Meaning maps of any photographs with a trained model: what ``meaningmaps map`` does.

The same steps and functions as the workflow's chain for one scene (rules patches, patch_views,
prompt, finetuned_ratings, map_from_ratings), with the model loaded once for all images: the patch
grid and the smoothing come from the workflow's config (the real study's defaults without one), the
views and the prompt as the model's card says it was trained, so the maps equal the workflow's
``maps/finetuned/<scene>.npy`` for the same image and model. Per image it writes ``<stem>.npy``
(float32), ``<stem>.png`` (the map over the image) and ``<stem>.ratings.csv`` (per patch).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import save_npy
from ..config import scale_specs
from ..data.images import IMAGE_SUFFIXES
from ..errors import InputError
from .model_card import view_settings


@dataclass
class MappedImage:
    image: Path
    npy: Path
    png: Path
    seconds: float
    patches: int


def check_images(images) -> list[Path]:
    """The image files, checked before the model is loaded: they exist, are images, and have
    distinct stems (the outputs are named by stem)."""
    paths = [Path(p) for p in images]
    if not paths:
        raise InputError(None, "no images given.", "pass one or more image files (.jpg, .jpeg, .png).")
    stems: dict[str, Path] = {}
    for p in paths:
        if not p.is_file():
            raise InputError(p, "does not exist." if not p.exists() else "is not a file.",
                             "pass image files (for a folder: meaningmaps map ... folder/*.jpg).")
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(p, f"is not a scene image ({', '.join(IMAGE_SUFFIXES)}).", "pass .jpg or .png images.")
        if p.stem in stems:
            raise InputError(p, f"has the same name stem as {stems[p.stem]}, so their maps would overwrite "
                             "each other.", "rename one of them.")
        stems[p.stem] = p
    return paths


def overlay(image_path, array: np.ndarray, png_path, alpha: float = 0.6) -> None:
    """The map (min-max scaled through the maps' colormap) over the image, as a PNG."""
    from matplotlib import colormaps
    from PIL import Image

    from ..atomic import atomic_path
    from ..data.images import load_rgb
    from ..evaluation.figures import MAP_CMAP

    rgb = load_rgb(image_path).astype(np.float64)
    a = np.asarray(array, dtype=np.float64)
    span = a.max() - a.min()
    scaled = (a - a.min()) / span if span > 0 else np.zeros_like(a)
    coloured = colormaps[MAP_CMAP](scaled)[..., :3] * 255.0
    out = np.clip((1 - alpha) * rgb + alpha * coloured, 0, 255).round().astype(np.uint8)
    with atomic_path(png_path) as tmp:
        Image.fromarray(out, mode="RGB").save(tmp, format="PNG")


def map_images(model, images, out_dir, config: dict, *, base: str | None = None, device: str = "auto",
               batch_size: int | None = None, progress: bool = True, log=print) -> list[MappedImage]:
    """Map every image with the trained model folder ``model`` (``config``: a validated workflow
    config). ``base``: the base model of an adapter (default: the one its card names)."""
    from ..data.images import image_size
    from ..maps.meaning_map import map_from_ratings
    from ..maps.patch_files import write_scene_patches
    from .model_card import read_card
    from .model_loading import load_processor
    from .model_ratings import rate_scene
    from .prompting import prompt_text
    from .qa_jsonl import resolve_pad_fill, write_scene_views
    from .trained_models import check_trained_model, load_trained, model_kind

    paths = check_images(images)
    expected = view_settings(config)
    model_kind(model)  # a missing folder or one that holds no model: stop here, naming it
    card = read_card(model)
    base = base or (card or {}).get("base_model") or config["model"]["base"]
    card = check_trained_model(model, expected, base, key="--model")
    processor = load_processor(base if card["kind"] == "adapter" else str(model))
    paper = [key for key, on in (("model.prompt", expected["prompt_mode"] == "paper"),
                                  ("patches.grid", config["patches"]["grid"] == "paper"),
                                  ("meaning_map.builder", config["meaning_map"]["builder"] == "paper")) if on]
    if paper:
        raise InputError(paper[0], f"meaningmaps map does not follow the paper's procedure yet ({', '.join(paper)}: "
                         "paper); the workflow does.", "map these scenes with the workflow, or use the defaults.")
    prompt = prompt_text(processor, expected["prompt_mode"])
    check_trained_model(model, {**expected, "prompt": prompt}, None, key="--model")
    fill = resolve_pad_fill(expected["image_aspect"], expected["pad_fill"], base if card["kind"] == "adapter"
                            else str(model))
    inference = config["model"]["inference"]
    specs, sigma = scale_specs(config), float(config["meaning_map"]["sigma"])
    loaded = load_trained(model, base, device=device, dtype=inference["dtype"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for i, path in enumerate(paths, 1):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=out_dir) as tmp:
            patches, views = Path(tmp) / "patches", Path(tmp) / "views"
            index = write_scene_patches(path, patches, specs, config["patches"]["png_compress_level"])
            write_scene_views(patches, views, expected["background"], aspect=expected["image_aspect"], fill=fill)
            ratings = out_dir / f"{path.stem}.ratings.csv"
            if progress:
                log(f"[{i}/{len(paths)}] {path.name}: {len(index)} patches")
            rate_scene(model, views, patches / "index.csv", ratings, mode=inference["mode"],
                       batch_size=batch_size or inference["batch_size"], map_from=inference["map_from"],
                       max_new_tokens=inference["max_new_tokens"], progress=progress,
                       model_and_processor=loaded, prompt=prompt, scoring=inference["scoring"])
        m = map_from_ratings(ratings, image_size(path), specs, sigma)
        npy, png = out_dir / f"{path.stem}.npy", out_dir / f"{path.stem}.png"
        save_npy(npy, m.astype(np.float32))
        overlay(path, m, png)
        seconds = time.perf_counter() - start
        results.append(MappedImage(path, npy, png, seconds, len(index)))
        log(f"[{i}/{len(paths)}] {path.name}: {npy} ({seconds:.2f} s)")
    return results
