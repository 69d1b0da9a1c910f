"""Meaning maps of any photographs with a trained model: what ``meaningmaps map`` does.

The same steps and functions as the workflow's chain for one scene (rules patches, patch_views,
prompt, finetuned_ratings, map_from_ratings; the patches and views made in a temporary folder by
``scene_views.temporary_views``, as the workflow's rating jobs make them when no step needs their
files), with the model loaded once for all images: the patch grid and the smoothing come from the
workflow's config (the real study's defaults without one), the views and the prompt as the model's
card says it was trained, so the maps equal the workflow's ``maps/finetuned/<scene>.npy`` for the
same image and model. Per image it writes ``<stem>.npy`` (float32) into the output folder, which
holds nothing else, so that the folder is itself a map folder (``dataset.maps``, pysaliency's
``SaliencyMapModelFromDirectory``: one file per stem), the preview ``previews/<stem>.png`` (the map
over the image), ``ratings/<stem>.csv`` (per patch) and ``info/maps.json`` (the source:
``finetuned``, or ``base`` for a base model with no card, rated zero-shot as the workflow's ``base``
source; the model, prompt, views, patch grid and smoothing).

Loading the model is the expensive step, so everything is checked before it (:func:`map_images`):
the output folder (it can be written, holds no input image, and is new, empty or a map folder of
the same model and settings), every image's content with the workflow's own input check (the whole
image decodes, the patch grid covers it), and the model. One bad image among several is reported
and skipped, and the others are mapped; the command then ends with exit code 2 and names it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import WriteError, atomic_path, save_npy, save_text
from ..config import scale_specs
from ..data.images import IMAGE_SUFFIXES, image_size, load_rgb
from ..data.input_checks import check_image
from ..errors import InputError
from ..folders import check_output_folder
from ..maps.meaning_map import map_from_ratings
from ..maps.preview import MAP_CMAP
from . import loading, ratings, trained_models  # called as loading.load_llava, ...: tests replace them there
from .card import CARD_NAME, read_card, view_settings
from .prompting import prompt_text
from .qa_jsonl import resolve_pad_fill
from .scene_views import temporary_views


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
    path = Path(model)
    if loading.looks_like_hub_id(str(model)):
        return True
    return (path.is_dir() and (path / "config.json").is_file() and not (path / "adapter_config.json").is_file()
            and read_card(path) is None)


def map_info(*, source, model, base, prompt, views, specs, sigma, images) -> dict:
    """What ``info/maps.json`` records (see :func:`write_map_info`), as JSON reads it back."""
    info = {"source": source, "zero_shot": source == "base", "model": str(model), "base_model": str(base),
            "prompt": prompt, **views, "scales": [dict(name=s.name, n=s.n, diameter=s.diameter) for s in specs],
            "sigma": sigma, "images": {Path(p).stem: str(p) for p in images}}
    return json.loads(json.dumps(info))


def write_map_info(out_dir, *, source=None, model=None, base=None, prompt=None, views=None, specs=None, sigma=None,
                   images=(), info: dict | None = None) -> Path:
    """``info/maps.json``: which source the maps are (``base``: the base model zero-shot), the model,
    the prompt, views, patch grid and smoothing they were made with, and the image of each map
    (``info``: that record, made by :func:`map_info`)."""
    if info is None:
        info = map_info(source=source, model=model, base=base, prompt=prompt, views=views, specs=specs, sigma=sigma,
                        images=images)
    path = Path(out_dir) / MAP_INFO
    save_text(path, json.dumps(info, indent=1) + "\n")
    return path


def find_images(images) -> list[tuple[Path, InputError | None]]:
    """The image files the command line names, each with its problem (None: none found yet): it does
    not exist, is not a file or not a scene image by its suffix. A folder stands for its scene images
    (its .jpg/.jpeg/.png files, sorted; hidden files and other files skipped). Refused as a whole: no
    images, a folder with none, two images with one name stem (the outputs are named by stem)."""
    found: list[Path] = []
    for p in map(Path, images):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")
                            and q.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise InputError(p, f"is a folder with no scene images ({', '.join(IMAGE_SUFFIXES)}).",
                                 "pass a folder of images, or the image files themselves.")
            found += inside
        else:
            found.append(p)
    if not found:
        raise InputError(None, "no images given.", "pass one or more image files (.jpg, .jpeg, .png).")
    stems: dict[str, Path] = {}
    listed = []
    for p in found:
        if p.stem in stems:
            raise InputError(p, f"has the same name stem as {stems[p.stem]}, so their maps would overwrite "
                             "each other.", "rename one of them.")
        stems[p.stem] = p
        problem = None
        if not p.is_file():
            problem = InputError(p, "does not exist." if not p.exists() else "is not a file.",
                                 "pass image files or folders of them.")
        elif p.suffix.lower() not in IMAGE_SUFFIXES:
            problem = InputError(p, f"is not a scene image ({', '.join(IMAGE_SUFFIXES)}).", "pass .jpg or .png images.")
        listed.append((p, problem))
    return listed


def check_images(images) -> list[Path]:
    """The image files (:func:`find_images`), refused at the first problem."""
    listed = find_images(images)
    for _, problem in listed:
        if problem is not None:
            raise problem
    return [p for p, _ in listed]


def check_image_content(path, specs) -> None:
    """The workflow's input check of a scene image (``input_checks.check_image``, rule check_scenes):
    the whole image decodes, to the size its header gives, and the patch grid covers every pixel;
    so that ``meaningmaps map`` and the workflow accept the same images."""
    check_image(path, image_size(path), [dict(name=s.name, n=s.n, diameter=s.diameter) for s in specs])


#: the folders ``meaningmaps map`` writes into, under ``--out``
OUTPUT_SUBFOLDERS = ("", "previews", "ratings", "info")


def image_outputs(out_dir, stem: str) -> list[Path]:
    """An image's outputs: the map, its preview, its ratings (the map last: it is moved in last)."""
    out = Path(out_dir)
    return [out / "ratings" / f"{stem}.csv", out / "previews" / f"{stem}.png", out / f"{stem}.npy"]


def check_out_folder(out_dir, images) -> None:
    """``--out`` can be written, and holds no input image in a folder the command writes into (the
    output folder itself, previews/, ratings/, info/): the map folder would hold the images beside the
    maps (``score`` and ``dataset.maps`` read a map folder's .jpg/.png files as maps) and a preview
    could replace an image. A folder inside an image folder (``photos/maps``) is fine."""
    check_output_folder(out_dir, "--out")
    out = Path(out_dir).resolve()
    written = {out / sub if sub else out for sub in OUTPUT_SUBFOLDERS}
    for p in images:
        for folder in {Path(os.path.abspath(p)).parent.resolve(), Path(p).resolve().parent}:
            if folder in written:
                where = "is the folder" if folder == out else f"writes into {folder.name}/, the folder"
                raise InputError(f"{out_dir} (--out)", f"{where} of the input image {p}: the maps, previews and "
                                 "ratings would be written among the images (a preview could replace an image of "
                                 "its name), and score and dataset.maps would read the images as maps.",
                                 f"give --out a folder of its own, e.g. {Path(out_dir) / 'maps'} (a folder "
                                 "inside an image folder is fine).")


#: the entries of info/maps.json that must agree for maps to share a map folder (all but the images)
SAME_SOURCE = ("source", "model", "base_model", "prompt", "prompt_mode", "image_aspect", "pad_fill", "background",
               "scales", "sigma")


def _same_model(a, b) -> bool:
    """Two --model/base values naming the same model: equal, or local paths to the same folder."""
    if a == b:
        return True
    pa, pb = Path(str(a)), Path(str(b))
    return pa.exists() and pb.exists() and pa.resolve() == pb.resolve()


def earlier_maps(out_dir, paths, info: dict) -> tuple[dict, list[Path]]:
    """The map folder's earlier record and the outputs this run replaces. ``--out`` is new, empty, or
    a folder of earlier ``meaningmaps map`` maps of the same source and settings (its info/maps.json
    agrees on :data:`SAME_SOURCE`): a rerun maps an image to the same map, so its outputs are
    replaced and the record keeps the earlier images. A folder of maps of another model or settings,
    or one holding files the command did not write (no info/maps.json), stops the command: one map
    folder holds one source, and nothing else."""
    out = Path(out_dir)
    replaced = [q for p in paths for q in image_outputs(out, p.stem) if q.exists()]
    record = out / MAP_INFO
    if not record.is_file():
        held = sorted(q.name for q in out.iterdir() if not q.name.startswith(".")) if out.is_dir() else []
        if held:
            names = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
            clash = f", {len(replaced)} of which this run would replace" if replaced else ""
            raise InputError(f"{out_dir} (--out)", f"already holds {len(held)} file(s) or folder(s) ({names}){clash}, "
                             f"and no {MAP_INFO}: it is no map folder of meaningmaps map, whose output folder holds "
                             "its maps only.", "give --out a new or empty folder.")
        return {}, []
    try:
        old = json.loads(record.read_text())
        if not isinstance(old, dict) or not isinstance(old.get("images", {}), dict):
            raise ValueError("not the JSON object meaningmaps map writes")
    except (OSError, ValueError) as exc:
        raise InputError(record, f"cannot be read ({exc}), so which maps {out_dir} holds is unknown.",
                         "give --out a new folder, or delete this folder's maps first.") from exc
    for key in SAME_SOURCE:
        same = _same_model(old.get(key), info[key]) if key in ("model", "base_model") else old.get(key) == info[key]
        if not same:
            raise InputError(record, f"says the maps in {out_dir} were made with {key} {json.dumps(old.get(key))}; "
                             f"this run's {key} is {json.dumps(info[key])}, and one map folder holds the maps of one "
                             "model and settings.", "give --out a new folder, or delete this folder's maps to "
                             "replace them.")
    return old, replaced


def overlay(image_path, array: np.ndarray, png_path, alpha: float = 0.6) -> None:
    """The map (min-max scaled through the maps' colormap) over the image, as a PNG."""
    from matplotlib import colormaps

    rgb = load_rgb(image_path).astype(np.float64)
    a = np.asarray(array, dtype=np.float64)
    span = a.max() - a.min()
    scaled = (a - a.min()) / span if span > 0 else np.zeros_like(a)
    coloured = colormaps[MAP_CMAP](scaled)[..., :3] * 255.0
    out = np.clip((1 - alpha) * rgb + alpha * coloured, 0, 255).round().astype(np.uint8)
    with atomic_path(png_path) as tmp:
        Image.fromarray(out, mode="RGB").save(tmp, format="PNG")


@dataclass
class MapRun:
    """What :func:`map_images` did: the images it mapped, and the images it could not map with their
    errors (in command-line order), which it reported and went past."""
    mapped: list[MappedImage]
    failed: list[InputError]


def _map_one(path: Path, out_dir: Path, *, model, loaded, prompt, specs, sigma, views: dict, fill, config: dict,
             batch_size, progress: bool, log, label: str, source: str) -> MappedImage:
    """One image, as the workflow's chain maps a scene; its outputs (ratings, preview, map) are made
    in a temporary folder and moved into ``out_dir`` only when all are made, so an image that fails
    leaves what the folder held for it as it was. An InputError about a temporary file names the image."""
    inference = config["model"]["inference"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=out_dir) as tmp:
        tmp = Path(tmp)
        made = image_outputs(tmp, path.stem)
        try:
            with temporary_views(path, specs, config["patches"]["png_compress_level"], views["background"],
                                 aspect=views["image_aspect"], fill=fill, dir=tmp) as cut:
                index = cut.index
                if progress:
                    log(f"{label} {path.name}: {len(index)} patches")
                ratings.rate_scene(model, cut.views, cut.index_csv, made[0], mode=inference["mode"],
                                   batch_size=batch_size or inference["batch_size"], map_from=inference["map_from"],
                                   max_new_tokens=inference["max_new_tokens"], progress=progress,
                                   model_and_processor=loaded, prompt=prompt, scoring=inference["scoring"])
            m = map_from_ratings(made[0], image_size(path), specs, sigma)
            save_npy(made[2], m.astype(np.float32))
            overlay(path, m, made[1])
        except WriteError:  # a full disk or a clash: about the folder, not the image
            raise
        except InputError as err:
            if err.path and Path(os.path.abspath(err.path)).is_relative_to(tmp.resolve()):
                raise InputError(path, f"could not be mapped: {err.problem}", err.fix) from err
            raise
        final = image_outputs(out_dir, path.stem)
        for done, target in zip(made, final, strict=True):
            target.parent.mkdir(exist_ok=True)
            os.replace(done, target)
    seconds = time.perf_counter() - start
    log(f"{label} {path.name}: {final[2]} ({seconds:.2f} s)")
    return MappedImage(path, final[2], final[1], seconds, len(index), source)


def map_images(model, images, out_dir, config: dict, *, base: str | None = None, device: str = "auto",
               batch_size: int | None = None, progress: bool = True, log=print, report=None) -> MapRun:
    """Map every image with the trained model folder ``model`` (``config``: a validated workflow
    config). ``base``: the base model of an adapter (default: the one its card names).

    Everything is checked before the model loads: the config, ``--out`` (:func:`check_out_folder`),
    each image's content (:func:`check_image_content`: the workflow's input check), the model, and
    the maps already in ``--out`` (:func:`earlier_maps`). A bad image is reported (``report``, called
    with its InputError as it is found; default: ``log``) and the others are mapped; so is an image
    that fails for an input reason while it is mapped. Refused as a whole (InputError): a bad
    config, ``--out`` or model, or no image that can be mapped (the model is then not loaded)."""
    report = report or (lambda err: log(str(err)))
    listed = find_images(images)
    paths = [p for p, _ in listed]
    expected = view_settings(config)
    paper = [key for key, on in (("model.prompt", expected["prompt_mode"] == "paper"),
                                  ("patches.grid", config["patches"]["grid"] == "paper"),
                                  ("meaning_map.builder", config["meaning_map"]["builder"] == "paper")) if on]
    if paper:
        raise InputError(paper[0], f"meaningmaps map does not follow the paper's procedure yet ({', '.join(paper)}: "
                         "paper); the workflow does.", "map these scenes with the workflow, or use the defaults.")
    inference = config["model"]["inference"]
    specs, sigma = scale_specs(config), float(config["meaning_map"]["sigma"])
    check_out_folder(out_dir, paths)
    failed, good = [], []
    for path, problem in listed:
        if problem is None:
            try:
                check_image_content(path, specs)
            except InputError as err:
                problem = err
        if problem is None:
            good.append(path)
        elif len(paths) == 1:  # one image: its error is the command's
            raise problem
        else:
            failed.append(problem)
            report(problem)
    if not good:
        raise InputError(None, f"none of the {len(paths)} images can be mapped (the error of each is above), so "
                         "the model was not loaded.", "correct or replace them, then run the command again.")
    if is_base_model(model):  # no card: the base model zero-shot, as the workflow's `base` source rates
        source, base = "base", str(model)
        loading.check_model_source(base, "--model")
        log(f"{model}: a base model (no {CARD_NAME}), so the maps are the zero-shot `base` source, not a "
            "fine-tuned model's")
        processor = loading.load_processor(base)
        prompt = prompt_text(processor, expected["prompt_mode"])
        fill = resolve_pad_fill(expected["image_aspect"], expected["pad_fill"], base)
        info = map_info(source=source, model=model, base=base, prompt=prompt, views=expected, specs=specs,
                        sigma=sigma, images=good)
        old, replaced = earlier_maps(out_dir, good, info)
        loaded = loading.load_llava(base, device=device, dtype=inference["dtype"])
    else:
        source = "finetuned"
        trained_models.model_kind(model)  # a missing folder or one that holds no model: stop here, naming it
        card = read_card(model)
        base = base or (card or {}).get("base_model") or config["model"]["base"]
        card = trained_models.check_trained_model(model, expected, base, key="--model")
        processor = loading.load_processor(base if card["kind"] == "adapter" else str(model))
        prompt = prompt_text(processor, expected["prompt_mode"])
        trained_models.check_trained_model(model, {**expected, "prompt": prompt}, None, key="--model")
        fill = resolve_pad_fill(expected["image_aspect"], expected["pad_fill"], base if card["kind"] == "adapter"
                                else str(model))
        info = map_info(source=source, model=model, base=base, prompt=prompt, views=expected, specs=specs,
                        sigma=sigma, images=good)
        old, replaced = earlier_maps(out_dir, good, info)
        loaded = trained_models.load_trained(model, base, device=device, dtype=inference["dtype"])
    out_dir = Path(out_dir)
    if replaced:
        log(f"{out_dir} holds earlier maps of the same model and settings ({MAP_INFO}): replacing "
            f"{len({q.stem for q in replaced})} image(s)' map, preview and ratings")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_map_info(out_dir, info={**info, "images": {**old.get("images", {}), **info["images"]}})
    mapped = []
    for i, path in enumerate(good, 1):
        try:
            mapped.append(_map_one(path, out_dir, model=model, loaded=loaded, prompt=prompt, specs=specs, sigma=sigma,
                                   views=expected, fill=fill, config=config, batch_size=batch_size,
                                   progress=progress, log=log, label=f"[{i}/{len(good)}]", source=source))
        except WriteError:  # a full disk or a clash: not this image's fault, so nothing more can be written
            raise
        except InputError as err:
            failed.append(err)
            report(err)
    if len(mapped) < len(good):  # the record lists the images whose maps the folder holds
        write_map_info(out_dir, info={**info, "images": {**old.get("images", {}),
                                                         **{m.image.stem: str(m.image) for m in mapped}}})
    failed.sort(key=lambda err: paths.index(Path(err.path)) if err.path and Path(err.path) in paths else len(paths))
    return MapRun(mapped, failed)
