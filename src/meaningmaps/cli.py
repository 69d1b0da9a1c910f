"""The ``meaningmaps`` command: a thin layer over the functions the workflow's rules call.

    meaningmaps map --model PATH IMAGE|FOLDER... --out DIR [--configfile FILE] [--device D] [--batch-size N]
    meaningmaps score MAPS... --fixations FILE --out DIR [--size W H] [--configfile FILE]
    meaningmaps inspect FOLDER
    meaningmaps demo OUT_DIR [--scenes N] [--seed S]
    meaningmaps build-tiny OUT_DIR [--tokenizer FILE] ...
    meaningmaps keys

Every subcommand has ``--help``. Each checks its arguments (files, folders, numbers, the output
folder) before its work starts, and bad input ends with one line naming the file and the fix (exit 2),
never a traceback. ``map`` checks every image and ``--out`` before the model loads; of several images,
a bad one gets its line and the others are mapped, and the command ends with a summary line, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .config_docs import keys_table
from .errors import InputError
from .folders import check_input_folder
from .schema import load_schema

# Each command imports its own modules, inside its function: `meaningmaps --help` and `inspect` load
# no model stack (torch), and `score` sets BLAS's thread count before numpy loads (meaningmaps.config
# imports it).


def _map(args) -> int:
    from .config import load_config, validate_config
    from .model.map_images import map_images

    config = load_config(args.configfile) if args.configfile else validate_config({}, "the real study's defaults")
    device = args.device or (config["model"]["device"] if args.configfile else "auto")
    run = map_images(args.model, args.images, args.out, config, base=args.base, device=device,
                     batch_size=args.batch_size, progress=not args.quiet,
                     report=lambda err: print(f"meaningmaps map: {err}", file=sys.stderr))
    results = run.mapped
    if results:
        total = sum(r.seconds for r in results)
        source = results[0].source
        what = ("the base model zero-shot (no model card): the workflow's `base` source" if source == "base"
                else "the trained model: the workflow's `finetuned` source")
        print(f"{len(results)} image(s) mapped into {args.out} in {total:.2f} s "
              f"({total / len(results):.2f} s per image), with {what} (info/maps.json says so)", flush=True)
    if not run.failed:
        return 0
    named = len(results) + len(run.failed)
    if named > 1:  # one line for each bad image is above; one image: its line is the whole report
        print(f"meaningmaps map: {len(results)} of {named} images mapped; {len(run.failed)} not: "
              f"{', '.join(str(err.path) for err in run.failed)} (the error of each is above). Fix: correct or "
              f"replace them, then map them again (into the same --out, the maps made now are kept).", file=sys.stderr)
    return 2


#: BLAS thread variables: the workflow's jobs run with threads: 1, which Snakemake passes to BLAS
#: through these; with more threads BLAS sums dot products in another order (r differs in the 15th
#: digit), so `score` uses one thread too, set before numpy is imported.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                         "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _score(args) -> int:
    if "numpy" not in sys.modules:  # run as the command (in a process of its own)
        os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
    from .config import load_config, validate_config
    from .evaluation.score_folders import score_folders, summary_text

    config = load_config(args.configfile) if args.configfile else validate_config({}, "the defaults")
    files = score_folders(args.maps, args.fixations, args.out, config, size=args.size,
                          log=(lambda *a: None) if args.quiet else print)
    print(summary_text(files["summary"]))
    print("wrote " + ", ".join(str(files[k]) for k in ("scores", "summary", "pairwise", "ceiling", "summary_png")))
    return 0


def _inspect(args) -> int:
    from .data.inspection import dataset_section, format_inspection, inspect_folder

    check_input_folder(args.folder, "FOLDER", "give the folder the study's files are in, e.g. data/osf/ptsvm after "
                       "the download.")
    found = inspect_folder(args.folder)
    print(format_inspection(found))
    print("\n# A config section for this folder (check it, then paste it into your config):")
    print(dataset_section(found, args.folder))
    return 0


def _keys(args) -> int:
    print(keys_table(load_schema()), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="meaningmaps", description="Automatic meaning maps (Henderson & Hayes "
                                 "2017) from a fine-tuned vision-language model.")
    ap.add_argument("--version", action="version", version=f"meaningmaps {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    m = sub.add_parser("map", help="meaning maps of any images with a trained model",
                       description="Patch grid, model ratings and the meaning map of each image, as the workflow "
                       "makes maps/finetuned/<scene>.npy. Writes <stem>.npy (float32) into --out, which then holds "
                       "one file per image (a map folder for dataset.maps, pysaliency or MATLAB), "
                       "previews/<stem>.png (the map over the image) and ratings/<stem>.csv (per patch). Every "
                       "image and --out are checked before the model loads; a bad image among several is reported "
                       "and the others are mapped (exit code 2 at the end).")
    m.add_argument("images", nargs="+", metavar="IMAGE", help="scene images (.jpg, .jpeg, .png), or folders of them")
    m.add_argument("--model", required=True, help="a trained model folder: <results>/models/all/release (or "
                   "adapter, merged), or a copy of one; or a base model (a hub id such as "
                   "llava-hf/llava-1.5-7b-hf, or a local copy: a model folder with no meaningmaps_card.json), "
                   "which maps zero-shot as the workflow's base source")
    m.add_argument("--out", required=True, help="output folder: new, empty, or one an earlier `meaningmaps map` "
                   "wrote with the same model and settings (its maps of these images are replaced); not a folder "
                   "that holds the images")
    m.add_argument("--configfile", help="the workflow config whose patches, meaning_map and model settings to use "
                   "(default: the real study's defaults: 300 fine 87 px and 108 coarse 205 px patches, sigma 10)")
    m.add_argument("--base", help="the base model of an adapter: a hub id or a local copy (default: the one the "
                   "model's card names)")
    m.add_argument("--device", default=None, help="auto (a GPU when there is one), cpu, cuda, cuda:1, ... "
                   "(default: the config's model.device, auto without a config file)")
    m.add_argument("--batch-size", type=int, default=None, help="patches per forward pass (default: the "
                   "config's model.inference.batch_size)")
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    m.set_defaults(run=_map)

    s = sub.add_parser("score", help="score folders of maps against fixations (no config, no Snakemake)",
                       description="Every map folder against the fixations, as the workflow's evaluation scores "
                       "its map sources, with the same functions: the attention maps, the centre baselines "
                       "(center, center_empirical), Pearson r, R^2, the saliency benchmark's metrics, semipartial "
                       "R^2, the noise ceiling, scene-bootstrap CIs and paired tests. Scenes: those with fixations "
                       "and a map in every folder. Writes scores.csv, summary.csv, pairwise.csv, ceiling.csv and "
                       "summary.png/.pdf into --out.")
    s.add_argument("maps", nargs="+", metavar="MAPS", help="map folders (<scene>.npy|.npz|.mat|.png|.jpg|.tif, one "
                   "file per scene, as dataset.maps reads them), each as FOLDER (its name is the source) or "
                   "NAME=FOLDER")
    s.add_argument("--fixations", required=True, help="the fixation file: a .csv (scene, x, y[, duration][, "
                   "subject][, fix_index]; other column names and the origin via --configfile's "
                   "dataset.fixation_csv) or a Henderson & Hayes .mat")
    s.add_argument("--out", required=True, help="output folder (not one of the map folders); its scores.csv, "
                   "summary.csv, ... are replaced")
    s.add_argument("--size", nargs=2, type=int, metavar=("W", "H"), help="the scenes' size in pixels, for maps "
                   "of another size (not needed when the maps are at the scenes' size)")
    s.add_argument("--configfile", help="a workflow config whose dataset.fixation_csv, attention and evaluation "
                   "settings to use (default: their defaults; its dataset paths are not used)")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(run=_score)

    i = sub.add_parser("inspect", help="what a data folder holds, and a dataset: config section for it",
                       description="Scene images and their sizes, .mat files with their variables and shapes, "
                       "map-like images, fixation files; then a dataset: section that uses them.")
    i.add_argument("folder", help="a data folder, e.g. data/osf/ptsvm after the download")
    i.set_defaults(run=_inspect)

    k = sub.add_parser("keys", help="the config keys as a markdown table (README.md's 'Config keys')",
                       description="Every config key of src/meaningmaps/config.schema.yaml with its type or "
                       "values, default and description, as a markdown table: README.md's 'Config keys' table is "
                       "this output, pasted between its marker comments (tests/test_config_docs.py checks it).")
    k.set_defaults(run=_keys)

    # Listed for --help; main() hands their arguments to the modules (see DELEGATED).
    sub.add_parser("demo", help="write the synthetic demo study (as python -m meaningmaps.data.demo)")
    sub.add_parser("build-tiny", help="write a tiny random LLaVA for offline tests (as python -m "
                   "meaningmaps.model.tiny_llava)")
    return ap


#: subcommands whose arguments (and --help) are those of the module they run
DELEGATED = {"demo": ("meaningmaps.data.demo", "demo"), "build-tiny": ("meaningmaps.model.tiny_llava", "build-tiny")}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in DELEGATED:  # argparse cannot pass a leading --help through to them
        module, name = DELEGATED[argv[0]]
        sys.argv[0] = f"meaningmaps {name}"
        try:
            return importlib.import_module(module).main(argv[1:]) or 0
        except InputError as exc:
            print(f"meaningmaps {name}: {exc}", file=sys.stderr)
            return 2
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        print(f"meaningmaps {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
