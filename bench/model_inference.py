"""Benchmark: the paper's generate-and-parse inference against batched six-answer scoring, same model, same patches.

    # a saved model (e.g. the tiny one, or llava-hf/llava-1.5-7b-hf on disk)
    .venv/bin/python bench/model_inference.py --model models/llava-1.5-7b-hf --device cuda --dtype bf16
    # a random-weight model of any shape, built in memory (nothing downloaded)
    .venv/bin/python bench/model_inference.py --preset tiny --device cpu --json bench/results/cpu-tiny.json
    .venv/bin/python bench/model_inference.py --preset llava-1.5-7b --device cuda --dtype bf16 \\
        --patches 64 --batch-sizes 8 16 32 --gen-patches 2

Methods, each timed on the same synthetic patch images (random RGB, the two patch diameters):

* ``generate-512``: the paper's loop, one patch per ``generate`` call, greedy, 512 new tokens
  (on ``--gen-patches`` patches: it is slow);
* ``generate-4``: the same loop capped at 4 new tokens, a fair floor (a trained model answers
  "very low" in about 3 tokens and then stops);
* ``score-bs<B>``: :func:`meaningmaps.model.answer_scoring.score_answers`, B patches per forward pass
  (one prompt pass + one pass per distinct answer prefix).

Random weights never emit EOS on purpose, so generation is forced to run to its cap
(``min_new_tokens = max_new_tokens``): the generate timings are what a model that rambles costs,
and generate-4 what one that answers at once costs. Each method is warmed up first, timed
``--repeats`` times (``torch.cuda.synchronize`` on CUDA) and the median reported; the time includes
the processor (resize, crop, normalise), as a real run does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from meaningmaps.model.answer_scoring import answer_token_ids, generate_answers, score_answers
from meaningmaps.model.prompting import prompt_text


def build_random_model(a, device, dtype):
    """A random-weight LLaVA of the requested shape, built directly on the device, and its processor."""
    import torch
    from transformers import LlavaForConditionalGeneration

    from meaningmaps.model.tiny_llava import build_processor, build_tokenizer, llava15_7b_config, llava_config

    tokenizer = build_tokenizer()
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    if a.preset == "llava-1.5-7b":
        config = llava15_7b_config(vocab_size=a.vocab or 32064, image_token_id=image_id)
        image_size, patch_size = 336, 14
    else:
        image_size, patch_size = a.image_size or 56, a.patch_size or 14
        th = a.text_hidden or 64
        vh = a.vision_hidden or 32
        config = llava_config(vocab_size=a.vocab or len(tokenizer), image_token_id=image_id,
                              pad_token_id=tokenizer.pad_token_id, text_hidden=th, text_layers=a.text_layers or 2,
                              text_heads=a.text_heads or 4, text_intermediate=a.text_intermediate or 2 * th,
                              vision_hidden=vh, vision_layers=a.vision_layers or 2, vision_heads=max(1, vh // 16),
                              vision_intermediate=2 * vh, image_size=image_size, patch_size=patch_size)
    if config.text_config.vocab_size < len(tokenizer):
        raise SystemExit(f"--vocab {config.text_config.vocab_size} is smaller than the tokenizer ({len(tokenizer)})")
    torch.manual_seed(a.seed)
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlavaForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(old)
    model = model.to(device=device, dtype=dtype).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model, build_processor(tokenizer, image_size, patch_size)


def load_saved_model(path, device, dtype):
    from transformers import LlavaForConditionalGeneration

    from meaningmaps.model.loading import load_processor

    processor = load_processor(path)
    model = LlavaForConditionalGeneration.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
    return model.to(device).eval(), processor


def patches(n, seed):
    """Synthetic patch views: random RGB at the two patch diameters (87 and 205 px)."""
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (d, d, 3), dtype=np.uint8)) for d in
            ([87, 205] * (n // 2 + 1))[:n]]


def timed(fn, repeats, sync):
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def naive_check(model, processor, images):
    """Max |difference| of batched cached scoring against full sequences without cache, one at a time."""
    import torch

    prompt = prompt_text(processor)
    ids = answer_token_ids(processor.tokenizer, prompt)
    got = score_answers(model, processor, images, batch_size=len(images))
    worst = 0.0
    for row, image in enumerate(images):
        enc = processor(images=[image], text=[prompt], return_tensors="pt")
        n = enc["input_ids"].shape[1]
        for a, ans in enumerate(ids):
            x = torch.cat([enc["input_ids"], torch.tensor([ans])], dim=1).to(model.device)
            with torch.inference_mode():
                logits = model(input_ids=x, pixel_values=enc["pixel_values"].to(model.device, model.dtype),
                               attention_mask=torch.ones_like(x)).logits[0].float()
            lp = torch.log_softmax(logits, -1).double()
            ref = sum(lp[n - 1 + j, t].item() for j, t in enumerate(ans))
            worst = max(worst, abs(ref - got[row, a]))
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--model", help="a saved LLaVA folder (LlavaForConditionalGeneration + processor)")
    src.add_argument("--preset", choices=["tiny", "llava-1.5-7b"], default="tiny",
                     help="random weights of this shape, built in memory (default tiny)")
    for name in ("text-hidden", "text-layers", "text-heads", "text-intermediate", "vocab", "vision-hidden",
                 "vision-layers", "image-size", "patch-size"):
        ap.add_argument(f"--{name}", type=int, help="shape override for --preset tiny (--vocab also for 7b)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    ap.add_argument("--patches", type=int, default=32, help="patches for scoring and generate-4")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16, 32])
    ap.add_argument("--gen-patches", type=int, default=2, help="patches for generate-512")
    ap.add_argument("--gen-tokens", type=int, nargs="+", default=[512, 4], help="generate caps to time")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", type=int, default=0, metavar="N",
                    help="also compare scoring on N patches with the no-cache reference (max |diff|)")
    ap.add_argument("--machine", default=None, help="a note on the machine for the JSON (e.g. '2 CPU cores')")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (default: torch's); 1 is steadier on a shared machine")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args(argv)

    import torch
    import transformers

    from meaningmaps.model.loading import pick_device, pick_dtype

    if a.threads:
        torch.set_num_threads(a.threads)
    device = pick_device(a.device)
    dtype = pick_dtype(device, a.dtype)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    model, processor = (load_saved_model(a.model, device, dtype) if a.model else
                        build_random_model(a, device, dtype))
    build_s = time.perf_counter() - t0
    n_prompt = processor(images=patches(1, 0), text=[prompt_text(processor)], return_tensors="pt")["input_ids"].shape[1]
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {a.model or a.preset}, {n_params / 1e6:.1f} M parameters, {dtype} on {device}, "
          f"prompt {n_prompt} tokens (built/loaded in {build_s:.1f} s)", file=sys.stderr)

    images = patches(a.patches, a.seed)
    results = []

    def record(method, n, fn, **extra):
        fn_warm = extra.pop("warmup")
        fn_warm()  # warm-up: kernels, allocator, lazy inits
        med, times = timed(fn, a.repeats, sync)
        results.append({"method": method, "patches": n, "median_s": med, "times_s": times,
                        "patches_per_s": n / med, **extra})
        print(f"  {method:>14}: {n / med:9.3f} patches/s  ({med:.3f} s for {n})", file=sys.stderr)

    for cap in a.gen_tokens:
        n = a.gen_patches if cap > 16 else a.patches
        subset = images[:n]
        kw = dict(max_new_tokens=cap, min_new_tokens=cap, batch_size=1)
        record(f"generate-{cap}", n, lambda s=subset, kw=kw: generate_answers(model, processor, s, **kw),
               warmup=lambda kw=kw, cap=cap: generate_answers(model, processor, images[:1], **{**kw, "max_new_tokens": min(
                   cap, 8), "min_new_tokens": min(cap, 8)}),
               new_tokens=cap, batch_size=1)
    for bs in a.batch_sizes:
        record(f"score-bs{bs}", a.patches, lambda bs=bs: score_answers(model, processor, images, batch_size=bs),
               warmup=lambda bs=bs: score_answers(model, processor, images[:bs], batch_size=bs), batch_size=bs)

    check = naive_check(model, processor, images[:a.check]) if a.check else None
    rate = {r["method"]: r["patches_per_s"] for r in results}
    best = max((r for r in results if r["method"].startswith("score")), key=lambda r: r["patches_per_s"], default=None)
    print(f"\n{'method':>14} {'patches':>8} {'median s':>10} {'patches/s':>11}" +
          "".join(f" {'x vs ' + k:>18}" for k in rate if k.startswith("generate")))
    for r in results:
        ratios = "".join(f" {r['patches_per_s'] / v:18.1f}" for k, v in rate.items() if k.startswith("generate"))
        print(f"{r['method']:>14} {r['patches']:>8} {r['median_s']:>10.3f} {r['patches_per_s']:>11.3f}{ratios}")
    if check is not None:
        print(f"\nmax |score_answers - no-cache reference| on {a.check} patches: {check:.3g} (log-prob)")
    report = {
        "command": shlex.join(["python", *(sys.argv if argv is None else ["bench/model_inference.py", *argv])]),
        "machine": a.machine, "platform": platform.platform(), "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "dtype": str(dtype), "attention": model.config._attn_implementation, "model": a.model or a.preset,
        "parameters": n_params, "prompt_tokens": n_prompt,
        "repeats": a.repeats, "results": results,
        "ratios": {f"{r['method']} / {g}": r["patches_per_s"] / rate[g] for r in results
                   if r["method"].startswith("score") for g in rate if g.startswith("generate")},
        "best_score": best["method"] if best else None, "check_max_abs_diff": check,
    }
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {a.json}", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
