"""Measured speed of the model steps at the LLaVA-1.5-7B shape on one GPU, in one call (issue 5).

Random weights of the exact shape (Llama 4096 x 32 layers, MLP 11008, vocabulary 32064; CLIP
ViT-L/14 at 336 px, 576 image tokens), bf16, built directly on the GPU: nothing is downloaded.
Random weights do not change the arithmetic, only when ``generate`` would stop, so every generate
call is forced to its cap (``min_new_tokens = max_new_tokens``).

Sections, each timed after a warm-up, with the device synchronised, median of repeats; every
section's numbers are written to ``--out`` as soon as they exist, so a later failure (or the device
call's timeout) loses nothing. ``--sections`` picks which run, in the order given (default: all, in
the order below); the matmul ceiling and the model build always run first.

1. ``matmul``: an 8192^3 bf16 product, the card's practical ceiling for the FLOP figures below;
2. ``profile`` (issue 15): ``torch.profiler`` over one scoring batch at the best batch size, cached and
   tree paths: the top ops/kernels by self device time (self CPU time on the CPU) with their share,
   a kernel-category summary (matmul, attention, copies, other), the profiler's ranges (processor,
   host-to-device copy, prompt pass with the vision tower inside it, answer passes; the tree
   method's one pass counts as its prompt pass) and the same split timed without the profiler;
   chrome traces (gzip) next to ``--out``;
3. ``score``: our batched six-answer scoring (``answer_scoring.score_answers``) per batch size:
   patches/s, ms/patch, TFLOP/s against 2 x parameters x prompt tokens per patch, peak memory;
   then where the time goes at the best batch size (processor on the CPU vs the model passes);
4. ``score_variants`` (issue 15): at the best batch size, ``method="cached"`` vs ``"tree"`` end to end
   and model only, their max |log-prob difference| (and, as the rounding floor, cached at two batch
   sizes); the prompt pass without a mask (the unpadded path cached scoring takes) vs with a 4-D
   mask (what the tree pass must use); pageable vs pinned ``non_blocking`` host-to-device copies;
   with ``--compile``, both methods again on ``torch.compile(model)``;
5. ``load_merge`` (issue 15): the model saved as bf16 safetensors, ``load_llava`` of it onto the device
   (first load, with ``--drop-caches`` after dropping the page cache, then the median of repeats),
   ``from_pretrained(device_map=device)``, a LoRA adapter of the recipe (r 128 on q,k,v,o,gate,up,down +
   projector) merged on disk (``merge.merge_adapter``) and in memory (``trained_models.load_trained``),
   and the ``model.inference.scenes_per_job`` at which a shard's load + merge is <= 10% of its scoring;
6. ``paper_loop``: the paper's inference, one patch per greedy ``generate`` call, ``max_new_tokens`` 4;
7. ``probe``: vision-tower feature extraction for the linear probe (``probe.patch_features``);
8. ``train``: LoRA fine-tuning steps through ``finetune.train.train`` (HF Trainer + DeepSpeed ZeRO-2, one
   GPU) for each ``--train-variants`` entry (``gc``: activation checkpointing of every layer, ``gc2``:
   every other layer, ``nogc``: none; ``-<per-device batch>``; a ``liger-`` prefix applies Liger
   kernels when ``liger_kernel`` is importable), each on a fresh model, out of memory recorded, not
   fatal: samples/s, tokens/s, model FLOP utilisation (6 x parameters x tokens against the datasheet
   and against the measured matmul; 4 x ... since LoRA computes no gradient of the frozen weights),
   peak memory;
9. ``study_time``: the 40-scene study's time per GPU from the numbers above (where a section did not
   run, from ``--reference``, marked so).

CPU rehearsal of the whole script with a tiny shape (numbers mean nothing but the plumbing):
``python bench/gpu_speed.py --preset tiny --out /tmp/gpu_speed.json --score-patches 16 --batch-sizes 8
--gen-patches 2 --probe-patches 16 --train-steps 3 --train-warmup 1 --train-variants gc-4 gc2-4 nogc-8
liger-gc-4 --repeats 2 --load-repeats 2 --compile`` (``bench/results/cpu-tiny-issue15.json``);
``bench/device_run.sh`` is the GPU command.
"""

from __future__ import annotations

import argparse
import json
import math
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
        t, times = median_time(lambda bs=bs: score_answers(model, processor, images, batch_size=bs), a.repeats)
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


# ----------------------------------------------------------------------------------------- issue 15


def best_batch_size(a):
    """The best measured scoring batch size (section score), else the first of --batch-sizes."""
    best = RESULTS.get("score", {}).get("best")
    return int(best["batch_size"]) if best else int(a.batch_sizes[0])


def _is_oom(exc):
    from meaningmaps.model.answer_scoring import _is_oom as is_oom

    return is_oom(exc)


def free_memory():
    import gc

    import torch
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class PassTimer:
    """Forward hooks on the model: the first top-level call of a scoring batch is the prompt pass
    (vision tower + prompt), later ones the answer passes. ``profile=True``: a profiler range per
    pass; else synchronised wall time per kind (and the vision tower's own)."""

    def __init__(self, model, profile=False):
        self.model, self.profile = model, profile
        self.calls, self.times, self.ranges, self.handles = 0, {}, [], []

    def __enter__(self):
        self.handles = [self.model.register_forward_pre_hook(self._pre), self.model.register_forward_hook(self._post)]
        vt = self.model.model.vision_tower
        self.handles += [vt.register_forward_pre_hook(lambda *_: self._start("vision_tower")),
                         vt.register_forward_hook(lambda *_: self._stop("vision_tower"))]
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()

    def new_batch(self):
        self.calls = 0

    def _kind(self):
        return "prompt_pass" if self.calls == 0 else "answer_passes"

    def _pre(self, *_):
        self._start(self._kind())

    def _post(self, *_):
        self._stop(self._kind())
        self.calls += 1

    def _start(self, kind):
        if self.profile:
            import torch
            rf = torch.profiler.record_function(kind)
            rf.__enter__()
            self.ranges.append(rf)
        else:
            sync()
            self.times.setdefault(kind, []).append(-time.perf_counter())

    def _stop(self, kind):
        if self.profile:
            self.ranges.pop().__exit__(None, None, None)
        else:
            sync()
            self.times[kind][-1] += time.perf_counter()


# Crude, by name (first match wins): enough to say where the time goes, not a kernel taxonomy.
KERNEL_CATEGORIES = (("attention", ("flash", "fmha", "attention", "efficient_attention")),
                     ("matmul", ("gemm", "matmul", "cutlass", "xmma", "nvjet", "mm_", "aten::mm", "aten::bmm",
                                 "aten::addmm", "aten::linear", "cublas", "sm90", "sm80")),
                     ("copy", ("memcpy", "memset", "copy", "aten::to", "aten::_to_copy", "cat")),
                     ("norm_rope_act", ("norm", "rsqrt", "silu", "mul", "add", "pow", "mean", "neg", "cos", "sin")))


def kernel_category(name):
    low = name.lower()
    for cat, keys in KERNEL_CATEGORIES:
        if any(k in low for k in keys):
            return cat
    return "other"


RANGES = ("processor", "h2d_copy", "prompt_pass", "answer_passes", "vision_tower", "score_batch")


def profile_table(prof, on_device, top=25):
    """Top ops by self device (or CPU) time, their share, a category summary, the named ranges."""
    events = prof.key_averages()

    def self_time(e):
        return (getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0) or 0) \
            if on_device else e.self_cpu_time_total

    ops = [e for e in events if e.key not in RANGES and not e.key.startswith("ProfilerStep")]
    total = sum(self_time(e) for e in ops) or 1.0
    rows = sorted(ops, key=self_time, reverse=True)
    cats = {}
    for e in ops:
        cats[kernel_category(e.key)] = cats.get(kernel_category(e.key), 0.0) + self_time(e)
    ranges = {}
    for e in events:
        if e.key in RANGES:
            ranges[e.key] = {"count": e.count, "cpu_time_total_ms": e.cpu_time_total / 1e3,
                             "device_time_total_ms": (getattr(e, "device_time_total", 0) or 0) / 1e3}
    return {"time_kind": "self device time" if on_device else "self CPU time", "total_ms": total / 1e3,
            "top": [{"name": e.key[:160], "count": e.count, "self_ms": self_time(e) / 1e3,
                     "share": self_time(e) / total, "category": kernel_category(e.key)} for e in rows[:top]],
            "categories": {k: {"ms": v / 1e3, "share": v / total} for k, v in sorted(cats.items(),
                                                                                   key=lambda kv: -kv[1])},
            "ranges": ranges}


def section_profile(model, processor, a, out_dir):
    """One scoring batch under torch.profiler, cached and tree; plus the same split timed plainly."""
    import gzip
    import shutil

    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from meaningmaps.model.answer_scoring import (
        _preprocess,
        _score_batch,
        _score_batch_tree,
        _to_device,
        answer_token_ids,
        answer_tree,
        continuation_groups,
    )
    from meaningmaps.model.prompting import prompt_text

    bs = a.profile_batch or best_batch_size(a)
    images = random_patches(bs, seed=5)
    prompt = prompt_text(processor)
    ids = answer_token_ids(processor.tokenizer, prompt)
    groups, tree = continuation_groups(ids), answer_tree(ids)
    device, dtype = model.device, model.dtype
    on_device = device.type == "cuda"
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_device else [])
    score = {"cached": lambda enc: _score_batch(model, enc, ids, groups),
             "tree": lambda enc: _score_batch_tree(model, enc, ids, tree)}
    out = {"batch_size": bs, "activities": [str(x) for x in acts], "answer_tree_nodes": len(tree.nodes),
           "prefix_groups": len([g for g in groups if g])}
    with torch.inference_mode():
        for method, fn in score.items():
            for _ in range(2):  # warm-up
                fn(_to_device(_preprocess(processor, images, [prompt] * bs), device, dtype))
            sync()
            with PassTimer(model, profile=True) as timer, profile(activities=acts) as prof:
                with record_function("processor"):
                    enc_cpu = _preprocess(processor, images, [prompt] * bs)
                with record_function("h2d_copy"):
                    enc = _to_device(enc_cpu, device, dtype)
                    sync()
                with record_function("score_batch"):
                    timer.new_batch()
                    fn(enc)
                    sync()
            rec = profile_table(prof, on_device, a.profile_top)
            trace = Path(out_dir) / f"trace_{method}.json"
            if a.traces:
                try:
                    prof.export_chrome_trace(str(trace))
                    with open(trace, "rb") as src, gzip.open(str(trace) + ".gz", "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    trace.unlink()
                    size = Path(str(trace) + ".gz").stat().st_size
                    if size > 15 * 2**20:  # the device call brings back files of at most 16 MiB
                        Path(str(trace) + ".gz").unlink()
                        rec["trace"] = f"dropped: {size / 2**20:.1f} MiB gzip"
                    else:
                        rec["trace"] = trace.name + ".gz"
                except Exception as exc:  # a trace is a convenience
                    rec["trace"] = f"failed: {exc!r}"
            # The same split without the profiler: synchronised wall times, median of repeats.
            split = {"processor_s": [], "h2d_copy_s": []}
            with PassTimer(model) as timer:
                for _ in range(a.repeats):
                    sync()
                    t0 = time.perf_counter()
                    enc_cpu = _preprocess(processor, images, [prompt] * bs)
                    t1 = time.perf_counter()
                    enc = _to_device(enc_cpu, device, dtype)
                    sync()
                    t2 = time.perf_counter()
                    timer.new_batch()
                    n_before = {k: len(v) for k, v in timer.times.items()}
                    fn(enc)
                    split["processor_s"].append(t1 - t0)
                    split["h2d_copy_s"].append(t2 - t1)
                    for k, v in timer.times.items():
                        split.setdefault(k + "_s", []).append(sum(v[n_before.get(k, 0):]))
            rec["split_median_s"] = {k: statistics.median(v) for k, v in split.items() if v}
            out[method] = rec
            print(f"profile {method}: " + ", ".join(f"{k} {v:.4f}" for k, v in rec["split_median_s"].items()),
                  flush=True)
    return out


def section_score_variants(model, processor, n_params, a):
    """cached vs tree (end to end, model only, same numbers?), mask cost, pinned copies, compile."""
    import torch

    from meaningmaps.model.answer_scoring import (
        _preprocess,
        _score_batch,
        _score_batch_tree,
        _to_device,
        answer_token_ids,
        answer_tree,
        continuation_groups,
        score_answers,
        tree_attention_mask,
    )
    from meaningmaps.model.prompting import prompt_text

    bs = best_batch_size(a)
    images = random_patches(a.score_patches, seed=1)
    prompt = prompt_text(processor)
    tokens = processor(images=[images[0]], text=[prompt], return_tensors="pt")["input_ids"].shape[1]
    ids = answer_token_ids(processor.tokenizer, prompt)
    groups, tree = continuation_groups(ids), answer_tree(ids)
    out = {"batch_size": bs, "patches": len(images), "prompt_tokens": tokens, "answer_tree_nodes": len(tree.nodes),
           "unpadded_no_mask_path": "cached scoring passes no mask when all prompts of a batch are equally long "
                                    "(always, with one prompt), so SDPA may take its causal flash kernel; the tree "
                                    "pass always needs a 4-D mask", "methods": {}}
    logp = {}

    def run_methods(net, label):
        for method in ("cached", "tree"):
            score_answers(net, processor, images[:bs], batch_size=bs, method=method)  # warm-up
            peak_mem_reset()
            t, times = median_time(lambda m=method: score_answers(net, processor, images, batch_size=bs, method=m),
                                   a.repeats)
            pps = len(images) / t
            out["methods"][label + method] = {"median_s": t, "times_s": times, "patches_per_s": pps,
                                              "tflops": 2 * n_params * tokens * pps / 1e12,
                                              "peak_mem_gib": peak_mem_gib()}
            logp[label + method] = score_answers(net, processor, images, batch_size=bs, method=method)
            print(f"score_variants {label}{method}: {pps:.2f} patches/s", flush=True)
            save(a.out)

    RESULTS["score_variants"] = out
    run_methods(model, "")
    out["max_abs_diff_tree_vs_cached"] = float(np.abs(logp["tree"] - logp["cached"]).max())
    small = max(1, bs // 4)
    other = score_answers(model, processor, images, batch_size=small)
    out["rounding_floor_cached_bs_vs_bs"] = {"batch_sizes": [bs, small],
                                             "max_abs_diff": float(np.abs(other - logp["cached"]).max())}
    out["tree_speedup_end_to_end"] = (out["methods"]["tree"]["patches_per_s"]
                                      / out["methods"]["cached"]["patches_per_s"])
    save(a.out)

    # Model only (inputs on the device), the prompt pass with and without a mask, the copies.
    device, dtype = model.device, model.dtype
    enc_cpu = _preprocess(processor, images[:bs], [prompt] * bs)
    enc = _to_device(enc_cpu, device, dtype)
    with torch.inference_mode():
        for name, fn in (("cached", lambda: _score_batch(model, enc, ids, groups)),
                         ("tree", lambda: _score_batch_tree(model, enc, ids, tree))):
            fn()
            t, _ = median_time(fn, a.repeats)
            out["methods"][name]["model_only_s"] = t
            out["methods"][name]["model_only_patches_per_s"] = bs / t
        mask4 = tree_attention_mask(enc["attention_mask"], (), dtype=dtype)
        no_mask = {**enc, "attention_mask": None}
        with_mask = {**enc, "attention_mask": mask4}
        model(**no_mask, logits_to_keep=1)
        model(**with_mask, logits_to_keep=1)
        t_none, _ = median_time(lambda: model(**no_mask, logits_to_keep=1), a.repeats)
        t_mask, _ = median_time(lambda: model(**with_mask, logits_to_keep=1), a.repeats)
    out["prompt_pass"] = {"no_mask_s": t_none, "mask_4d_s": t_mask, "mask_cost_ratio": t_mask / t_none}
    if device.type == "cuda":
        t_page, _ = median_time(lambda: _to_device(enc_cpu, device, dtype), a.repeats)
        pinned = {k: v.pin_memory() for k, v in enc_cpu.items() if hasattr(v, "pin_memory")}
        t_pin_cost, _ = median_time(lambda: {k: v.pin_memory() for k, v in enc_cpu.items()
                                             if hasattr(v, "pin_memory")}, a.repeats)

        def pinned_copy():
            return {k: v.to(device, non_blocking=True) for k, v in pinned.items()}

        t_pinned, _ = median_time(pinned_copy, a.repeats)
        out["h2d_copy"] = {"pageable_s": t_page, "pinned_non_blocking_s": t_pinned, "pin_memory_s": t_pin_cost,
                           "bytes": int(sum(v.numel() * v.element_size() for v in pinned.values()))}
    else:
        out["h2d_copy"] = "no accelerator: nothing to copy"
    save(a.out)
    if a.compile:
        try:
            t0 = time.perf_counter()
            compiled = torch.compile(model)
            score_answers(compiled, processor, images[:bs], batch_size=bs)
            score_answers(compiled, processor, images[:bs], batch_size=bs, method="tree")
            out["compile_warmup_s"] = time.perf_counter() - t0
            run_methods(compiled, "compiled_")
            out["max_abs_diff_compiled_vs_eager"] = float(np.abs(logp["compiled_cached"] - logp["cached"]).max())
        except Exception as exc:
            import traceback
            out["compile_error"] = repr(exc)[:500]
            out["compile_traceback"] = traceback.format_exc()[-2000:]
    else:
        out["compile"] = "not run (--compile)"
    return out


def section_load_merge(model, processor, scoring_pps, a):
    """Save the model (bf16 safetensors), load it onto the device, build the recipe's adapter, merge."""
    import shutil

    import torch
    from transformers import LlavaForConditionalGeneration

    from meaningmaps.model.finetune.lora import lora_config
    from meaningmaps.model.finetune.spec import FinetuneSpec
    from meaningmaps.model.loading import load_llava
    from meaningmaps.model.merge import merge_adapter
    from meaningmaps.model.trained_models import load_trained

    device, dtype = model.device, model.dtype
    dt = "bf16" if dtype == torch.bfloat16 else "fp32"
    work = Path(tempfile.mkdtemp(prefix="bench_load_", dir=a.work_dir))
    out = {"work_dir": str(work), "load_dtype": dt}
    RESULTS["load_merge"] = out
    try:
        base = work / "base"
        t0 = time.perf_counter()
        if model.dtype == torch.bfloat16:
            model.save_pretrained(base)
        else:  # the CPU rehearsal's fp32 model, saved in bf16 as the GPU's is
            model.to(torch.bfloat16).save_pretrained(base)
            model.to(dtype)
        processor.save_pretrained(base)
        sync()
        out["save_s"] = time.perf_counter() - t0
        out["safetensors_gib"] = sum(f.stat().st_size for f in base.glob("*.safetensors")) / 2**30
        out["save_gib_per_s"] = out["safetensors_gib"] / out["save_s"]
        save(a.out)

        def drop_caches():
            if not a.drop_caches:
                return "not asked (--drop-caches): the files were just written, so the page cache holds them"
            try:
                os.sync()
                Path("/proc/sys/vm/drop_caches").write_text("3\n")
                return "dropped (echo 3 > /proc/sys/vm/drop_caches)"
            except OSError as exc:
                return f"could not drop the page cache ({exc}): the first load reads from it"

        def timed_load(fn):
            free_memory()
            sync()
            t = time.perf_counter()
            net = fn()
            sync()
            t = time.perf_counter() - t
            del net
            free_memory()
            return t

        out["first_load_cache"] = drop_caches()
        out["first_load_s"] = timed_load(lambda: load_llava(str(base), device=str(device), dtype=dt))
        save(a.out)
        times = [timed_load(lambda: load_llava(str(base), device=str(device), dtype=dt))
                 for _ in range(a.load_repeats)]
        out["load_llava_s"] = {"median": statistics.median(times), "times": times,
                               "what": "meaningmaps.model.loading.load_llava: from_pretrained on the CPU, then .to(device)"}
        times = [timed_load(lambda: LlavaForConditionalGeneration.from_pretrained(
            base, dtype=model.dtype, attn_implementation="sdpa", device_map=str(device))) for _ in range(a.load_repeats)]
        out["from_pretrained_device_map_s"] = {"median": statistics.median(times), "times": times}
        save(a.out)

        # The recipe's adapter (r, targets, projector), random non-zero factors, saved as training does.
        from peft import get_peft_model

        t0 = time.perf_counter()
        spec = FinetuneSpec(base_model=str(base), train_jsonl="-", image_root="-", output_dir="-",
                            settings={"lora_r": a.lora_r, "lora_alpha": 2 * a.lora_r})
        cfg = lora_config(spec.settings)
        cfg.init_lora_weights = False
        net = LlavaForConditionalGeneration.from_pretrained(base, dtype=torch.float32)
        peft_model = get_peft_model(net, cfg)
        adapter = work / "adapter"
        peft_model.save_pretrained(adapter)
        processor.save_pretrained(adapter)
        out["adapter"] = {"lora_r": a.lora_r, "build_and_save_s": time.perf_counter() - t0,
                          "mib": sum(f.stat().st_size for f in adapter.glob("*.safetensors")) / 2**20}
        del net, peft_model
        free_memory()
        save(a.out)

        free_memory()
        t0 = time.perf_counter()
        merge_adapter(str(base), adapter, work / "merged", dtype="bf16")
        out["merge_disk_s"] = time.perf_counter() - t0
        out["merge_disk_what"] = "meaningmaps.model.merge.merge_adapter: base in fp32 on the CPU, merge, bf16, save (rule merge)"
        save(a.out)
        times = [timed_load(lambda: load_llava(str(work / "merged"), device=str(device), dtype=dt))
                 for _ in range(1)]
        out["load_merged_s"] = times[0]
        shutil.rmtree(work / "merged", ignore_errors=True)
        times = [timed_load(lambda: load_trained(str(adapter), str(base), device=str(device), dtype=dt))
                 for _ in range(a.merge_repeats)]
        out["load_trained_in_memory_s"] = {"median": statistics.median(times), "times": times,
                                           "what": "meaningmaps.model.trained_models.load_trained: base in fp32 on the "
                                                   "CPU, adapter merged in memory, cast, .to(device) (model.merge: "
                                                   "memory, the default)"}
        save(a.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # Shard size: a shard's load (+ merge) at most ~10% of its scoring time.
    pps = scoring_pps
    out["patches_per_scene"] = PATCHES_PER_SCENE
    if pps:
        per_scene = PATCHES_PER_SCENE / pps
        base_load = out["load_llava_s"]["median"]
        ft_load = out["load_trained_in_memory_s"]["median"]
        need = {"base": math.ceil(base_load / (0.1 * per_scene)), "finetuned": math.ceil(ft_load / (0.1 * per_scene))}
        out["scenes_per_job"] = {"scoring_patches_per_s": pps, "scoring_s_per_scene": per_scene,
                                 "base_load_s": base_load, "finetuned_load_and_merge_s": ft_load,
                                 "min_scenes_for_10pct": need, "suggested": max(need.values()),
                                 "rule": "load (+ in-memory merge) <= 10% of the shard's scoring time"}
    return out


PATCHES_PER_SCENE = 408  # a 1024 x 768 scene at the two scales (300 fine + 108 coarse)
STUDY_SCENES, STUDY_FOLDS = 40, 5


def _num(section, *keys, results=None):
    d = (results if results is not None else RESULTS).get(section)
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def section_study_time(a):
    """The 40-scene study per GPU from this run's numbers (else --reference's, marked)."""
    ref = json.loads(Path(a.reference).read_text()) if a.reference and Path(a.reference).is_file() else {}
    sources = {}

    def pick(name, *candidates):
        for label, value in candidates:
            if value:
                sources[name] = label
                return float(value)
        sources[name] = "missing"
        return None

    ref_path = Path(a.reference).resolve()
    ref_name = ref_path.relative_to(HERE.parent) if ref_path.is_relative_to(HERE.parent) else ref_path
    here, there = "this run", f"reference {ref_name}"  # repo-relative: the record reads the same anywhere
    cached = pick("scoring_cached_pps", (here + ": score_variants", _num("score_variants", "methods", "cached",
                                                                         "patches_per_s")),
                  (here + ": score best", _num("score", "best", "patches_per_s")),
                  (there, _num("score", "best", "patches_per_s", results=ref)))
    tree = pick("scoring_tree_pps", (here + ": score_variants", _num("score_variants", "methods", "tree",
                                                                     "patches_per_s")))
    probe = pick("probe_pps", (here, _num("probe", "patches_per_s")),
                 (there, _num("probe", "patches_per_s", results=ref)))
    variants = [v for v in (_num("train", "variants") or []) if v.get("samples_per_s")]
    baseline = next((v for v in variants if v.get("variant") == "gc-16"), None)
    best = max(variants, key=lambda v: v["samples_per_s"], default=None)
    train_base = pick("train_sps_recipe", (here + ": gc-16", baseline and baseline["samples_per_s"]),
                      (there, _num("train", "samples_per_s", results=ref)))
    train_best = pick("train_sps_best", (here + f": {best and best['variant']}", best and best["samples_per_s"]),
                      (there, _num("train", "samples_per_s", results=ref)))
    load = pick("load_s", (here, _num("load_merge", "load_llava_s", "median")))
    merge_mem = pick("load_and_merge_in_memory_s", (here, _num("load_merge", "load_trained_in_memory_s", "median")))

    from meaningmaps.model.finetune.settings import defaults

    epochs = float(defaults()["epochs"])
    spj = a.scenes_per_job
    patches = STUDY_SCENES * PATCHES_PER_SCENE
    train_samples = patches * (STUDY_FOLDS - 1) // STUDY_FOLDS  # each fold trains on 4/5 of the scenes
    per_fold_scenes = STUDY_SCENES // STUDY_FOLDS
    loads = {"base_shards": math.ceil(STUDY_SCENES / spj), "probe_shards": math.ceil(STUDY_SCENES / spj),
             "finetuned_shards": STUDY_FOLDS * math.ceil(per_fold_scenes / spj), "finetune_jobs": STUDY_FOLDS}
    best_pps = max(x for x in (cached, tree) if x) if (cached or tree) else None
    parts = {}
    if best_pps:
        parts["base_scoring_min"] = patches / best_pps / 60
        parts["finetuned_scoring_min"] = patches / best_pps / 60
    if probe:
        parts["probe_features_min"] = patches / probe / 60
    if train_best:
        parts["finetuning_min"] = STUDY_FOLDS * train_samples * epochs / train_best / 60
    if load:
        parts["loads_min"] = (loads["base_shards"] + loads["probe_shards"] + loads["finetune_jobs"]) * load / 60
    if merge_mem:
        parts["finetuned_loads_with_merge_min"] = loads["finetuned_shards"] * merge_mem / 60
    out = {"scenes": STUDY_SCENES, "patches": patches, "folds": STUDY_FOLDS, "epochs": epochs,
           "train_samples_per_fold": train_samples, "scenes_per_job": spj, "model_loads": loads,
           "inputs": {"scoring_cached_pps": cached, "scoring_tree_pps": tree, "scoring_used_pps": best_pps,
                      "probe_pps": probe, "train_sps_recipe": train_base, "train_sps_best": train_best,
                      "load_s": load, "load_and_merge_in_memory_s": merge_mem},
           "sources": sources, "parts_min": parts, "total_h": sum(parts.values()) / 60,
           "with_recipe_training_h": (sum(parts.values()) - parts.get("finetuning_min", 0)
                                      + (STUDY_FOLDS * train_samples * epochs / train_base / 60 if train_base else 0))
           / 60,
           "note": "per GPU, one job after another; the paper's single 70/30 model would train 1/5 x 5/4 as long"}
    if RESULTS.get("preset") == "tiny":
        out["note"] = "CPU tiny-shape rehearsal: these are not study times"
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


CHECKPOINTING = {"gc": 1, "gc2": 2, "gc4": 4, "nogc": None}


def parse_variant(text):
    """``[liger-]<gc|gc2|gc4|nogc>-<per-device batch>`` -> (liger, every_n_layers or None, batch)."""
    parts = text.split("-")
    liger = parts[0] == "liger"
    parts = parts[1:] if liger else parts
    if len(parts) != 2 or parts[0] not in CHECKPOINTING or not parts[1].isdigit() or int(parts[1]) < 1:
        raise SystemExit(f"--train-variants: {text!r} is not [liger-]<gc|gc2|gc4|nogc>-<batch>, e.g. gc2-16")
    return liger, CHECKPOINTING[parts[0]], int(parts[1])


def liger_status():
    import importlib.util

    if importlib.util.find_spec("liger_kernel") is None:
        return "not installed"
    try:
        from importlib.metadata import version
        return f"liger-kernel {version('liger-kernel')}"
    except Exception:
        return "importable"


def reset_accelerate_state():
    """Forget the previous variant's Accelerator (its DeepSpeed plugin): accelerate allows one per
    process otherwise. The process group (and the CPU's gloo PartialState) stay."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()


def section_train(build_model, processor, n_params, a, peak_flops):
    """Each --train-variants entry on a fresh model; out of memory is recorded, not fatal."""
    import functools

    from transformers import TrainerCallback

    import meaningmaps.model.finetune.train as finetune  # its enable_language_checkpointing is swapped per variant
    from meaningmaps.model.finetune.data import PatchRatingDataset
    from meaningmaps.model.finetune.spec import FinetuneSpec
    from meaningmaps.model.finetune.train import train
    from meaningmaps.model.prompting import CATEGORIES
    from meaningmaps.model.qa_jsonl import make_record, write_jsonl

    parsed = [(v, *parse_variant(v)) for v in a.train_variants]
    work = Path(tempfile.mkdtemp(prefix="bench_train_", dir=a.work_dir))
    (work / "images" / "s").mkdir(parents=True)
    n = a.train_steps * max(b for *_, b in parsed)
    rng = np.random.default_rng(4)
    records = []
    for i, img in enumerate(random_patches(n, seed=4)):
        img.save(work / "images" / "s" / f"p{i}.png")
        records.append(make_record(f"s/p{i}", f"s/p{i}.png", CATEGORIES[int(rng.integers(6))]))
    write_jsonl(work / "train.jsonl", records)
    os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=os.environ.get("MASTER_PORT", "29517"))
    ds = PatchRatingDataset(str(work / "train.jsonl"), str(work / "images"), processor)
    tokens_per_sample = statistics.mean(len(ds[i]["input_ids"]) for i in range(4))
    matmul = RESULTS.get("matmul", {}).get("tflops")
    out = {"tokens_per_sample": tokens_per_sample, "lora_r": a.lora_r, "zero_stage": 2, "liger": liger_status(),
           "learning_rate": "the recipe's (speed only: a larger batch would keep the rate per sample)",
           "variants": []}
    RESULTS["train"] = out
    enable = finetune.enable_language_checkpointing
    for name, liger, every, batch in parsed:
        rec = {"variant": name, "per_device_batch": batch, "gradient_checkpointing": every is not None,
               "checkpoint_every_n_layers": every, "liger": liger}
        out["variants"].append(rec)
        if liger and out["liger"] == "not installed":
            rec["skipped"] = "liger-kernel not installed"
            save(a.out)
            continue
        steps = []

        class StepTimer(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):
                sync()
                self.t0 = time.perf_counter()

            def on_step_end(self, args, state, control, **kw):
                sync()
                steps.append(time.perf_counter() - self.t0)  # noqa: B023 (called within this iteration)

        model = None
        try:
            reset_accelerate_state()
            free_memory()
            model = build_model()
            if liger:
                from liger_kernel.transformers import _apply_liger_kernel_to_instance
                _apply_liger_kernel_to_instance(model=model)
            spec = FinetuneSpec(base_model="in-memory random model", train_jsonl=str(work / "train.jsonl"),
                                image_root=str(work / "images"), output_dir=str(work / f"out-{name}"),
                                settings=dict(max_steps=a.train_steps, per_device_batch=batch, save_steps=10**6,
                                              logging_steps=1, bf16=True, gradient_checkpointing=every is not None,
                                              zero_stage=2, dataloader_workers=4, lora_r=a.lora_r,
                                              lora_alpha=2 * a.lora_r, warmup_ratio=0.03))
            finetune.enable_language_checkpointing = functools.partial(enable, every_n_layers=every or 1)
            peak_mem_reset()
            t0 = time.perf_counter()
            train(spec, model=model.train(), processor=processor, callbacks=[StepTimer()])
            wall = time.perf_counter() - t0
        except Exception as exc:
            import traceback
            rec["oom" if _is_oom(exc) else "error"] = repr(exc)[:500]
            if not _is_oom(exc):
                rec["traceback"] = traceback.format_exc()[-3000:]
            rec["peak_mem_gib"] = peak_mem_gib()
            print(f"train {name}: {'out of memory' if _is_oom(exc) else 'FAILED ' + repr(exc)[:200]}", flush=True)
            del exc
            continue
        finally:
            finetune.enable_language_checkpointing = enable
            del model
            free_memory()
            save(a.out)
        steady = steps[a.train_warmup:] or steps
        step_s = statistics.median(steady)
        sps = batch / step_s
        tps = sps * tokens_per_sample
        info = json.loads((work / f"out-{name}" / "run_info.json").read_text())
        rec.update({"steps": len(steps), "step_times_s": steps, "median_step_s": step_s, "samples_per_s": sps,
                    "tokens_per_s": tps, "wall_s_incl_setup": wall,
                    "mfu_6NT": 6 * n_params * tps / peak_flops if peak_flops else None,
                    "mfu_4NT": 4 * n_params * tps / peak_flops if peak_flops else None,
                    "mfu_6NT_vs_measured_matmul": 6 * n_params * tps / (matmul * 1e12) if matmul else None,
                    "peak_mem_gib": peak_mem_gib(), "trainable": info.get("trainable"),
                    "precision": info.get("precision"),
                    "loss": [r.get("loss") for r in _log_history(work / f"out-{name}" / "loss.csv")]})
        print(f"train {name}: {sps:.2f} samples/s, MFU(6NT) {rec['mfu_6NT'] or 0:.3f}", flush=True)
        save(a.out)
    done = [v for v in out["variants"] if v.get("samples_per_s")]
    if done:
        out["best"] = max(done, key=lambda v: v["samples_per_s"])["variant"]
    import shutil
    shutil.rmtree(work, ignore_errors=True)
    return out


def _log_history(csv_path):
    import csv
    with open(csv_path) as fh:
        yield from csv.DictReader(fh)


SECTIONS = ("profile", "score", "score_variants", "load_merge", "paper_loop", "probe", "train", "study_time")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="llava-1.5-7b", choices=["llava-1.5-7b", "tiny"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS,
                    help="the sections to run, in this order (default: all)")
    ap.add_argument("--skip", nargs="*", default=[], choices=SECTIONS, help="sections not to run")
    ap.add_argument("--score-patches", type=int, default=256)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--profile-batch", type=int, default=None,
                    help="profile at this batch size (default: the best of section score, else the first of "
                         "--batch-sizes)")
    ap.add_argument("--profile-top", type=int, default=25)
    ap.add_argument("--no-traces", dest="traces", action="store_false", help="no chrome traces next to --out")
    ap.add_argument("--compile", action="store_true", help="score_variants: also both methods under torch.compile")
    ap.add_argument("--gen-patches", type=int, default=16)
    ap.add_argument("--probe-patches", type=int, default=512)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--train-warmup", type=int, default=3)
    ap.add_argument("--train-batch", type=int, default=16, help="the batch of the default variant")
    ap.add_argument("--train-variants", nargs="+", default=None,
                    help="[liger-]<gc|gc2|gc4|nogc>-<per-device batch>, e.g. gc-16 gc2-16 nogc-16 gc-32 "
                         "(default: gc-<--train-batch>, or nogc-... with --no-checkpointing)")
    ap.add_argument("--lora-r", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--load-repeats", type=int, default=3, help="load_merge: timed loads after the first")
    ap.add_argument("--merge-repeats", type=int, default=1, help="load_merge: in-memory merges timed")
    ap.add_argument("--drop-caches", action="store_true",
                    help="load_merge: drop the page cache before the first load (needs root)")
    ap.add_argument("--work-dir", default=None, help="where load_merge and train write their temporary files")
    ap.add_argument("--scenes-per-job", type=int, default=10, help="study_time: model.inference.scenes_per_job")
    ap.add_argument("--reference", default=str(HERE / "results" / "h100.json"),
                    help="study_time: numbers for the sections this run did not measure")
    ap.add_argument("--no-checkpointing", action="store_true", help="train without gradient checkpointing")
    ap.add_argument("--resume", action="store_true",
                    help="start from the numbers already in --out (a rerun of some sections, or study_time alone "
                         "after a timeout: then no model is built)")
    a = ap.parse_args(argv)
    a.train_variants = a.train_variants or [f"{'nogc' if a.no_checkpointing else 'gc'}-{a.train_batch}"]
    for v in a.train_variants:
        parse_variant(v)
    sections = [s for s in dict.fromkeys(a.sections) if s not in a.skip]
    out_dir = Path(a.out).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)

    import torch
    import transformers
    from model_inference import build_random_model

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if a.resume and Path(a.out).is_file():
        RESULTS.update(json.loads(Path(a.out).read_text()))
        RESULTS.setdefault("first_run", {k: RESULTS.get(k) for k in ("date", "command")})
        RESULTS.setdefault("resumed", []).append({"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                                                  "command": " ".join(sys.argv), "sections": sections})
        if set(sections) <= {"study_time"}:
            RESULTS["study_time"] = section_study_time(a)
            save(a.out)
            print(json.dumps(RESULTS["study_time"], indent=1, default=str))
            return
    RESULTS.update(date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), command=" ".join(sys.argv), preset=a.preset,
                   sections=sections, torch=torch.__version__, transformers=transformers.__version__,
                   python=platform.python_version(),
                   device=torch.cuda.get_device_name(0) if device.type == "cuda" else f"cpu ({os.cpu_count()} cores)",
                   dtype=str(dtype), torch_threads=torch.get_num_threads())
    for pkg in ("deepspeed", "peft", "accelerate", "tokenizers", "safetensors"):
        try:
            RESULTS[pkg] = __import__(pkg).__version__
        except ImportError as exc:
            RESULTS.setdefault("import_errors", {})[pkg] = str(exc)
    RESULTS["liger_kernel"] = liger_status()
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

    def build():
        return build_random_model(ns, device, dtype)[0]

    t0 = time.perf_counter()
    model, processor = build_random_model(ns, device, dtype)
    n_params = sum(p.numel() for p in model.parameters())
    RESULTS["model"] = {"parameters": n_params, "build_s": time.perf_counter() - t0,
                        "image_tokens": model.config.image_seq_length,
                        "attention": model.config.text_config._attn_implementation}
    save(a.out)
    print(f"model: {n_params / 1e9:.3f} B parameters", flush=True)

    def run(name, fn):
        t = time.perf_counter()
        try:
            RESULTS[name] = fn()
        except Exception as exc:  # keep the other sections' numbers
            import traceback
            RESULTS[name] = {**(RESULTS.get(name) if isinstance(RESULTS.get(name), dict) else {}),
                             "error": repr(exc)[:1000], "traceback": traceback.format_exc()[-3000:]}
            print(f"{name} FAILED: {exc!r}", flush=True)
        RESULTS[name + "_wall_s"] = time.perf_counter() - t
        save(a.out)
        print(f"section {name}: {RESULTS[name + '_wall_s']:.1f} s", flush=True)

    peak = datasheet or RESULTS["matmul"]["tflops"] * 1e12

    def scoring_pps():
        """The default (cached) scoring's patches/s: this run's, else the reference's."""
        ref = json.loads(Path(a.reference).read_text()) if Path(a.reference).is_file() else {}
        return (_num("score_variants", "methods", "cached", "patches_per_s")
                or _num("score", "best", "patches_per_s") or _num("score", "best", "patches_per_s", results=ref))

    for section in sections:
        if model is None and section not in ("train", "study_time"):
            model = build()
        if section == "profile":
            run("profile", lambda model=model: section_profile(model, processor, a, out_dir))
        elif section == "score":
            run("score", lambda model=model: section_score(model, processor, n_params, a))
        elif section == "score_variants":
            run("score_variants", lambda model=model: section_score_variants(model, processor, n_params, a))
        elif section == "load_merge":
            run("load_merge", lambda model=model: section_load_merge(model, processor, scoring_pps(), a))
        elif section == "paper_loop":
            run("paper_loop", lambda model=model: section_paper_loop(model, processor, a, n_params, None))
        elif section == "probe":
            run("probe", lambda model=model: section_probe(model, processor, a))
        elif section == "train":
            # Each variant trains a fresh model: the one above would carry LoRA layers afterwards, so
            # it is dropped first (train is the last section that needs it) to leave the memory free.
            model = None
            free_memory()
            run("train", lambda: section_train(build, processor, n_params, a, peak))
        elif section == "study_time":
            run("study_time", lambda: section_study_time(a))
    if _num("score", "best", "patches_per_s") and "patches_per_s" in RESULTS.get("paper_loop", {}):
        RESULTS["ratio_score_vs_paper_loop_4"] = (RESULTS["score"]["best"]["patches_per_s"]
                                                  / RESULTS["paper_loop"]["patches_per_s"])
    save(a.out)
    summary = {k: RESULTS.get(k) for k in ("device", "matmul")}
    if "best" in RESULTS.get("score", {}):
        summary["score_best"] = {k: RESULTS["score"]["best"][k] for k in ("batch_size", "patches_per_s", "tflops",
                                                                          "peak_mem_gib")}
    sv = RESULTS.get("score_variants", {})
    summary["score_variants"] = {k: sv.get(k) for k in ("batch_size", "max_abs_diff_tree_vs_cached",
                                                        "tree_speedup_end_to_end", "prompt_pass", "error")}
    summary["score_variants"]["pps"] = {k: v.get("patches_per_s") for k, v in sv.get("methods", {}).items()}
    lm = RESULTS.get("load_merge", {})
    summary["load_merge"] = {k: lm.get(k) for k in ("first_load_s", "load_llava_s", "merge_disk_s",
                                                    "load_trained_in_memory_s", "scenes_per_job", "error")}
    summary["paper_loop_pps"] = RESULTS.get("paper_loop", {}).get("patches_per_s")
    summary["probe_pps"] = RESULTS.get("probe", {}).get("patches_per_s")
    summary["train"] = [{k: v.get(k) for k in ("variant", "samples_per_s", "mfu_6NT", "mfu_6NT_vs_measured_matmul",
                                               "peak_mem_gib", "oom", "error", "skipped")}
                        for v in RESULTS.get("train", {}).get("variants", [])]
    summary["study_time_h"] = RESULTS.get("study_time", {}).get("total_h")
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
