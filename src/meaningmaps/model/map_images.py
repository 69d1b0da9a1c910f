"""Meaning maps of any photographs with a trained model: what ``meaningmaps map`` does.

The same steps and functions as the workflow's chain for one scene (rules patches, patch_views,
prompt, finetuned_ratings, map_from_ratings), with the model loaded once for all images: the patch
grid and the smoothing come from the workflow's config (the real study's defaults without one), the
views and the prompt as the model's card says it was trained, so the maps equal the workflow's
``maps/finetuned/<scene>.npy`` for the same image and model. Per image it writes ``<stem>.npy``
(float32) into the output folder, which holds nothing else, so that the folder is itself a map
folder (``dataset.maps``, pysaliency's ``SaliencyMapModelFromDirectory``: one file per stem), the
preview ``previews/<stem>.png`` (the map over the image), ``ratings/<stem>.csv`` (per patch) and
``info/maps.json`` (the source: ``finetuned``, or ``base`` for a base model with no card, rated
zero-shot as the workflow's ``base`` source; the model, prompt, views, patch grid and smoothing).
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
from .card import CARD_NAME, view_settings


@dataclass
class MappedImage:
    image: Path
    npy: Path
    png: Path
    seconds: float
    patches: int
    source: str = "finetuned"  # or "base": a base model, zero-shot


#: what the maps of a ``meaningmaps map`` folder are (in a folder of its own: the output folder holds
#: only the maps)
MAP_INFO = "info/maps.json"


def is_base_model(model) -> bool:
    """A base model: a hub id, or a model folder without a card that is no adapter (a trained model
    folder has a card: training and merging write one)."""
    from .card import read_card
    from .loading import looks_like_hub_id

    path = Path(model)
    if looks_like_hub_id(str(model)):
        return True
    return (path.is_dir() and (path / "config.json").is_file() and not (path / "adapter_config.json").is_file()
            and read_card(path) is None)


def write_map_info(out_dir, *, source, model, base, prompt, views, specs, sigma, images) -> Path:
    """``info/maps.json``: which source the maps are (``base``: the base model zero-shot), the model,
    the prompt, views, patch grid and smoothing they were made with, and the image of each map."""
    import json

    from ..atomic import save_text

    info = {"source": source, "zero_shot": source == "base", "model": str(model), "base_model": str(base),
            "prompt": prompt, **views, "scales": [dict(name=s.name, n=s.n, diameter=s.diameter) for s in specs],
            "sigma": sigma, "images": {p.stem: str(p) for p in images}}
    path = Path(out_dir) / MAP_INFO
    save_text(path, json.dumps(info, indent=1) + "\n")
    return path


def check_images(images) -> list[Path]:
    """The image files, checked before the model is loaded: they exist, are images, and have
    distinct stems (the outputs are named by stem). A folder stands for its scene images (its
    .jpg/.jpeg/.png files, sorted; hidden files and other files skipped)."""
    paths = []
    for p in map(Path, images):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")
                           and q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(p, f"is a folder with no scene images ({', '.join(IMAGE_SUFFIXES)}).",
                                 "pass a folder of images, or the image files themselves.")
            paths += found
        else:
            paths.append(p)
    if not paths:
        raise InputError(None, "no images given.", "pass one or more image files (.jpg, .jpeg, .png).")
    stems: dict[str, Path] = {}
    for p in paths:
        if not p.is_file():
            raise InputError(p, "does not exist." if not p.exists() else "is not a file.",
                             "pass image files or folders of them.")
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
    from .card import read_card
    from .loading import load_processor
    from .prompting import prompt_text
    from .qa_jsonl import resolve_pad_fill, write_scene_views
    from .ratings import rate_scene
    from .trained_models import check_trained_model, load_trained, model_kind

    paths = check_images(images)
    expected = view_settings(config)
    paper = [key for key, on in (("model.prompt", expected["prompt_mode"] == "paper"),
                                  ("patches.grid", config["patches"]["grid"] == "paper"),
                                  ("meaning_map.builder", config["meaning_map"]["builder"] == "paper")) if on]
    if paper:
        raise InputError(paper[0], f"meaningmaps map does not follow the paper's procedure yet ({', '.join(paper)}: "
                         "paper); the workflow does.", "map these scenes with the workflow, or use the defaults.")
    inference = config["model"]["inference"]
    specs, sigma = scale_specs(config), float(config["meaning_map"]["sigma"])
    if is_base_model(model):  # no card: the base model zero-shot, as the workflow's `base` source rates
        from .loading import check_model_source, load_llava

        source, base = "base", str(model)
        check_model_source(base, "--model")
        log(f"{model}: a base model (no {CARD_NAME}), so the maps are the zero-shot `base` source, not a "
            "fine-tuned model's")
        processor = load_processor(base)
        prompt = prompt_text(processor, expected["prompt_mode"])
        fill = resolve_pad_fill(expected["image_aspect"], expected["pad_fill"], base)
        loaded = load_llava(base, device=device, dtype=inference["dtype"])
    else:
        source = "finetuned"
        model_kind(model)  # a missing folder or one that holds no model: stop here, naming it
        card = read_card(model)
        base = base or (card or {}).get("base_model") or config["model"]["base"]
        card = check_trained_model(model, expected, base, key="--model")
        processor = load_processor(base if card["kind"] == "adapter" else str(model))
        prompt = prompt_text(processor, expected["prompt_mode"])
        check_trained_model(model, {**expected, "prompt": prompt}, None, key="--model")
        fill = resolve_pad_fill(expected["image_aspect"], expected["pad_fill"], base if card["kind"] == "adapter"
                                else str(model))
        loaded = load_trained(model, base, device=device, dtype=inference["dtype"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_map_info(out_dir, source=source, model=model, base=base, prompt=prompt, views=expected, specs=specs,
                   sigma=sigma, images=paths)
    results = []
    for i, path in enumerate(paths, 1):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=out_dir) as tmp:
            patches, views = Path(tmp) / "patches", Path(tmp) / "views"
            index = write_scene_patches(path, patches, specs, config["patches"]["png_compress_level"])
            write_scene_views(patches, views, expected["background"], aspect=expected["image_aspect"], fill=fill)
            ratings = out_dir / "ratings" / f"{path.stem}.csv"
            ratings.parent.mkdir(exist_ok=True)
            if progress:
                log(f"[{i}/{len(paths)}] {path.name}: {len(index)} patches")
            rate_scene(model, views, patches / "index.csv", ratings, mode=inference["mode"],
                       batch_size=batch_size or inference["batch_size"], map_from=inference["map_from"],
                       max_new_tokens=inference["max_new_tokens"], progress=progress,
                       model_and_processor=loaded, prompt=prompt, scoring=inference["scoring"])
        m = map_from_ratings(ratings, image_size(path), specs, sigma)
        npy, png = out_dir / f"{path.stem}.npy", out_dir / "previews" / f"{path.stem}.png"
        save_npy(npy, m.astype(np.float32))
        overlay(path, m, png)
        seconds = time.perf_counter() - start
        results.append(MappedImage(path, npy, png, seconds, len(index), source))
        log(f"[{i}/{len(paths)}] {path.name}: {npy} ({seconds:.2f} s)")
    return results
