"""Measured speed of the model steps at the LLaVA-1.5-7B shape on one GPU, in one call (issue 5).

Random weights of the exact shape (Llama 4096 x 32 layers, MLP 11008, vocabulary 32064; CLIP
ViT-L/14 at 336 px, 576 image tokens), bf16, built directly on the GPU: nothing is downloaded.
Random weights do not change the arithmetic, only when ``generate`` would stop, so every generate
call is forced to its cap (``min_new_tokens = max_new_tokens``).

Sections, each timed after a warm-up, with the device synchronised, median of repeats; every
section's numbers are written to ``--out`` as soon as they exist, so a later failure loses nothing:

1. ``matmul``: an 8192^3 bf16 product, the card's practical ceiling for the FLOP figures below;
2. ``score``: our batched six-answer scoring (``answer_scoring.score_answers``) per batch size:
   patches/s, ms/patch, TFLOP/s against 2 x parameters x prompt tokens per patch, peak memory;
   then where the time goes at the best batch size (processor on the CPU vs the model passes);
3. ``paper_loop``: the paper's inference, one patch per greedy ``generate`` call, ``max_new_tokens`` 4;
4. ``probe``: vision-tower feature extraction for the linear probe (``probe.patch_features``);
5. ``train``: LoRA fine-tuning steps through ``finetune.train`` (HF Trainer + DeepSpeed ZeRO-2, one
   GPU, per-device batch 16, gradient checkpointing): samples/s, tokens/s, model FLOP utilisation
   (6 x parameters x tokens, the usual convention, and 4 x ... since LoRA computes no gradient of
   the frozen weights), peak memory.

CPU rehearsal of the whole script with a tiny shape: ``python bench/gpu_speed.py --preset tiny
--out /tmp/gpu_speed.json --score-patches 64 --gen-patches 4 --probe-patches 64 --train-steps 6``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

H100_BF16_DENSE = 989.4e12  # datasheet, SXM, dense bf16
H200_BF16_DENSE = 989.4e12

RESULTS: dict = {}


def save(out):
    Path(out).write_text(json.dumps(RESULTS, indent=1, default=str) + "\n")


def sync():
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_time(fn, repeats):
    from model_inference import timed

    return timed(fn, repeats, sync)


def peak_mem_reset():
    import torch
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_mem_gib():
    import torch
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None


def random_patches(n, seed=0):
    """Synthetic patch views at the real patch diameters (87 and 205 px), random RGB."""
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (d, d, 3), dtype=np.uint8)) for d in ([87, 205] * n)[:n]]


def section_matmul(device):
    import torch
    n = 8192 if device.type == "cuda" else 512
    dt = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dt)
    b = torch.randn(n, n, device=device, dtype=dt)
    for _ in range(3):
        a @ b
    t, _ = median_time(lambda: [a @ b for _ in range(10)], 3)
    return {"n": n, "dtype": str(dt), "tflops": 2 * n**3 * 10 / t / 1e12}


def section_score(model, processor, n_params, a):
    from meaningmaps.model.answer_scoring import (
        _preprocess,
        _score_batch,
        _to_device,
        answer_token_ids,
        continuation_groups,
        score_answers,
    )
    from meaningmaps.model.prompting import prompt_text

    images = random_patches(a.score_patches, seed=1)
    prompt = prompt_text(processor)
    tokens = processor(images=[images[0]], text=[prompt], return_tensors="pt")["input_ids"].shape[1]
    out = {"prompt_tokens": tokens, "patches": len(images), "by_batch": []}
    score_answers(model, processor, images[:max(a.batch_sizes)], batch_size=max(a.batch_sizes))  # warm-up
    for bs in a.batch_sizes:
        peak_mem_reset()
        t, times = median_time(lambda: score_answers(model, processor, images, batch_size=bs), a.repeats)
        pps = len(images) / t
        out["by_batch"].append({"batch_size": bs, "median_s": t, "times_s": times, "patches_per_s": pps,
                                "ms_per_patch": 1e3 / pps, "tflops": 2 * n_params * tokens * pps / 1e12,
                                "peak_mem_gib": peak_mem_gib()})
        print(f"score bs {bs}: {pps:.2f} patches/s", flush=True)
    best = max(out["by_batch"], key=lambda r: r["patches_per_s"])
    out["best"] = best
    # Where the time goes at the best batch size: the processor alone (CPU), the model alone.
    bs = best["batch_size"]
    batch = images[:bs]
    t_cpu, _ = median_time(lambda: _preprocess(processor, batch, [prompt] * bs), a.repeats)
    device, dtype = model.device, model.dtype
    enc = _to_device(_preprocess(processor, batch, [prompt] * bs), device, dtype)
    ids = answer_token_ids(processor.tokenizer, prompt)
    groups = continuation_groups(ids)
    import torch
    with torch.inference_mode():
        _score_batch(model, enc, ids, groups)
        t_gpu, _ = median_time(lambda: _score_batch(model, enc, ids, groups), a.repeats)
        t_prompt, _ = median_time(lambda: model(**enc, logits_to_keep=1), a.repeats)
    out["breakdown"] = {"batch_size": bs, "processor_cpu_s": t_cpu, "model_s": t_gpu, "prompt_pass_s": t_prompt,
                        "model_only_patches_per_s": bs / t_gpu,
                        "model_only_tflops": 2 * n_params * tokens * bs / t_gpu / 1e12,
                        "answer_passes_s": t_gpu - t_prompt, "prefix_groups": len([g for g in groups if g])}
    return out


def section_paper_loop(model, processor, a, n_params, tokens):
    from meaningmaps.model.answer_scoring import generate_answers

    images = random_patches(a.gen_patches, seed=2)
    generate_answers(model, processor, images[:1], max_new_tokens=4, min_new_tokens=4)  # warm-up
    t, times = median_time(lambda: generate_answers(model, processor, images, max_new_tokens=4,
                                                    min_new_tokens=4), a.repeats)
    return {"max_new_tokens": 4, "patches": len(images), "median_s": t, "times_s": times,
            "patches_per_s": len(images) / t}


def section_probe(model, processor, a):
    from meaningmaps.model.probe import patch_features

    images = random_patches(a.probe_patches, seed=3)
    patch_features(model, processor, images[:64], batch_size=64)
    peak_mem_reset()
    t, times = median_time(lambda: patch_features(model, processor, images, batch_size=64), a.repeats)
    return {"patches": len(images), "batch_size": 64, "median_s": t, "patches_per_s": len(images) / t,
            "peak_mem_gib": peak_mem_gib()}


def section_train(model, processor, n_params, a, peak_flops):
    from transformers import TrainerCallback

    from meaningmaps.model.finetune import FinetuneSpec, PatchRatingDataset, train
    from meaningmaps.model.prompting import CATEGORIES
    from meaningmaps.model.qa_jsonl import make_record, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="bench_train_"))
    (work / "images" / "s").mkdir(parents=True)
    n = a.train_steps * a.train_batch
    rng = np.random.default_rng(4)
    records = []
    for i, img in enumerate(random_patches(n, seed=4)):
        img.save(work / "images" / "s" / f"p{i}.png")
        records.append(make_record(f"s/p{i}", f"s/p{i}.png", CATEGORIES[int(rng.integers(6))]))
    write_jsonl(work / "train.jsonl", records)
    os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=os.environ.get("MASTER_PORT", "29517"))
    spec = FinetuneSpec(base_model="in-memory random LLaVA-1.5-7B shape", train_jsonl=str(work / "train.jsonl"),
                        image_root=str(work / "images"), output_dir=str(work / "out"),
                        settings=dict(max_steps=a.train_steps, per_device_batch=a.train_batch, save_steps=10**6,
                                      logging_steps=1, bf16=True, gradient_checkpointing=not a.no_checkpointing,
                                      zero_stage=2, dataloader_workers=4, lora_r=a.lora_r, lora_alpha=2 * a.lora_r,
                                      warmup_ratio=0.03))
    ds = PatchRatingDataset(spec.train_jsonl, spec.image_root, processor)
    tokens_per_sample = statistics.mean(len(ds[i]["input_ids"]) for i in range(4))
    steps = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            sync()
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            sync()
            steps.append(time.perf_counter() - self.t0)

    peak_mem_reset()
    t0 = time.perf_counter()
    train(spec, model=model.train(), processor=processor, callbacks=[StepTimer()])
    wall = time.perf_counter() - t0
    steady = steps[a.train_warmup:] or steps
    step_s = statistics.median(steady)
    sps = a.train_batch / step_s
    tps = sps * tokens_per_sample
    info = json.loads((work / "out" / "run_info.json").read_text())
    return {"steps": len(steps), "step_times_s": steps, "median_step_s": step_s, "samples_per_s": sps,
            "tokens_per_sample": tokens_per_sample, "tokens_per_s": tps, "per_device_batch": a.train_batch,
            "lora_r": a.lora_r, "zero_stage": 2, "gradient_checkpointing": not a.no_checkpointing,
            "wall_s_incl_setup": wall,
            "mfu_6NT": 6 * n_params * tps / peak_flops if peak_flops else None,
            "mfu_4NT": 4 * n_params * tps / peak_flops if peak_flops else None,
            "peak_mem_gib": peak_mem_gib(), "trainable": info.get("trainable"), "precision": info.get("precision"),
            "loss": [r.get("loss") for r in _log_history(work / "out" / "loss.csv")]}


def _log_history(csv_path):
    import csv
    with open(csv_path) as fh:
        yield from csv.DictReader(fh)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="llava-1.5-7b", choices=["llava-1.5-7b", "tiny"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--score-patches", type=int, default=256)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--gen-patches", type=int, default=16)
    ap.add_argument("--probe-patches", type=int, default=512)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--train-warmup", type=int, default=3)
    ap.add_argument("--train-batch", type=int, default=16)
    ap.add_argument("--lora-r", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-checkpointing", action="store_true", help="train without gradient checkpointing")
    ap.add_argument("--skip", nargs="*", default=[], choices=["score", "paper_loop", "probe", "train"])
    a = ap.parse_args(argv)

    import torch
    import transformers
    from model_inference import build_random_model

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    RESULTS.update(date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), command=" ".join(sys.argv), preset=a.preset,
                   torch=torch.__version__, transformers=transformers.__version__, python=platform.python_version(),
                   device=torch.cuda.get_device_name(0) if device.type == "cuda" else f"cpu ({os.cpu_count()} cores)",
                   dtype=str(dtype))
    try:
        import deepspeed
        import peft
        RESULTS.update(deepspeed=deepspeed.__version__, peft=peft.__version__)
    except ImportError as exc:
        RESULTS["import_error"] = str(exc)
    save(a.out)
    RESULTS["matmul"] = section_matmul(device)
    print(f"matmul: {RESULTS['matmul']['tflops']:.0f} TFLOP/s", flush=True)
    name = RESULTS["device"]
    datasheet = H200_BF16_DENSE if "H200" in name else H100_BF16_DENSE if "H100" in name else None
    RESULTS["datasheet_bf16_dense_tflops"] = datasheet / 1e12 if datasheet else None
    save(a.out)

    ns = argparse.Namespace(preset=a.preset, vocab=None, seed=0, image_size=None, patch_size=None, text_hidden=None,
                            text_layers=None, text_heads=None, text_intermediate=None, vision_hidden=None,
                            vision_layers=None)
    t0 = time.perf_counter()
    model, processor = build_random_model(ns, device, dtype)
    n_params = sum(p.numel() for p in model.parameters())
    RESULTS["model"] = {"parameters": n_params, "build_s": time.perf_counter() - t0,
                        "image_tokens": model.config.image_seq_length}
    save(a.out)
    print(f"model: {n_params / 1e9:.3f} B parameters", flush=True)

    def run(name, fn):
        if name in a.skip:
            return
        t = time.perf_counter()
        try:
            RESULTS[name] = fn()
        except Exception as exc:  # keep the other sections' numbers
            import traceback
            RESULTS[name] = {"error": repr(exc), "traceback": traceback.format_exc()[-3000:]}
            print(f"{name} FAILED: {exc!r}", flush=True)
        RESULTS[name + "_wall_s"] = time.perf_counter() - t
        save(a.out)

    run("score", lambda: section_score(model, processor, n_params, a))
    tokens = RESULTS.get("score", {}).get("prompt_tokens", 633)
    run("paper_loop", lambda: section_paper_loop(model, processor, a, n_params, tokens))
    run("probe", lambda: section_probe(model, processor, a))
    peak = datasheet or RESULTS["matmul"]["tflops"] * 1e12
    run("train", lambda: section_train(model, processor, n_params, a, peak))
    if "train" in RESULTS and "samples_per_s" in RESULTS["train"]:
        tps = RESULTS["train"]["tokens_per_s"]
        RESULTS["train"]["mfu_6NT_vs_measured_matmul"] = 6 * n_params * tps / (RESULTS["matmul"]["tflops"] * 1e12)
    if "score" in RESULTS and "best" in RESULTS["score"] and "patches_per_s" in RESULTS.get("paper_loop", {}):
        RESULTS["ratio_score_vs_paper_loop_4"] = (RESULTS["score"]["best"]["patches_per_s"]
                                                  / RESULTS["paper_loop"]["patches_per_s"])
    save(a.out)
    summary = {k: RESULTS.get(k) for k in ("device", "matmul")}
    if "best" in RESULTS.get("score", {}):
        summary["score_best"] = {k: RESULTS["score"]["best"][k] for k in ("batch_size", "patches_per_s", "tflops",
                                                                          "peak_mem_gib")}
        summary["score_breakdown"] = RESULTS["score"]["breakdown"]
    summary["paper_loop_pps"] = RESULTS.get("paper_loop", {}).get("patches_per_s")
    summary["ratio"] = RESULTS.get("ratio_score_vs_paper_loop_4")
    summary["probe_pps"] = RESULTS.get("probe", {}).get("patches_per_s")
    tr = RESULTS.get("train", {})
    summary["train"] = {k: tr.get(k) for k in ("samples_per_s", "tokens_per_s", "mfu_6NT", "mfu_4NT",
                                               "mfu_6NT_vs_measured_matmul", "peak_mem_gib", "median_step_s",
                                               "error")}
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
