"""Rules base_ratings / finetuned_ratings: a shard of scenes rated by a LLaVA model, loaded once;
one ratings CSV per scene in the shard's folder. The views are the files of rule patch_views, or,
when no step needs those (PATCH_FILES), made here from each image in a temporary folder."""
import time
from pathlib import Path

from meaningmaps.atomic import atomic_dir
from meaningmaps.model.card import check_card
from meaningmaps.model.loading import load_llava
from meaningmaps.model.ratings import rate_scene
from meaningmaps.model.scene_views import temporary_views, view_fill
from meaningmaps.model.sentencepiece_ids import paper_processor
from meaningmaps.model.trained_models import load_trained
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    s = sm.params.settings
    prompt = Path(sm.input.prompt).read_text()  # the training prompt: what the card must agree with
    rating_prompt = Path(sm.input.rating_prompt).read_text()  # the same but under model.prompt: paper
    scenes = list(sm.params.scenes)
    # A trained model must have been trained with this prompt and these views (its card says how).
    check_card(sm.params.model, {**sm.params.expect, "prompt": prompt}, required=sm.params.trained)
    start = time.perf_counter()
    if sm.params.trained:  # a merged model, or an adapter merged in memory on the base (model.merge, finetuned_model)
        loaded = load_trained(sm.params.model, sm.params.base, device=sm.params.device, dtype=s["dtype"])
    else:
        loaded = load_llava(sm.params.model, device=sm.params.device, dtype=s["dtype"])
    if sm.params.expect["prompt_mode"] == "paper":  # the original LLaVA code's (SentencePiece) ids
        net, processor = loaded
        processor, token_ids = paper_processor(processor)
        loaded = (net, processor)
        print(f"model.prompt paper: rating prompt {rating_prompt!r}; token ids: {token_ids}", flush=True)
    print(f"{sm.params.model} loaded in {time.perf_counter() - start:.2f} s; rating {len(scenes)} scene(s)", flush=True)
    def rate(scene, views, index_csv, out_dir):
        t0 = time.perf_counter()
        frame = rate_scene(sm.params.model, views, index_csv, Path(out_dir) / f"{scene}.csv",
                           mode=s["mode"], batch_size=s["batch_size"], map_from=s["map_from"],
                           max_new_tokens=s["max_new_tokens"], prompt=rating_prompt, model_and_processor=loaded,
                           scoring=s["scoring"], match=s["match"], unparsable=s["unparsable"])
        print(f"{scene}: {len(frame)} patches in {time.perf_counter() - t0:.2f} s; mean rating "
              f"{frame['rating'].mean():.3f}", flush=True)

    with atomic_dir(sm.output[0]) as tmp:
        if "images" in sm.input.keys():  # no step needs the patch files (PATCH_FILES): cut and view them here
            expect, cut = sm.params.expect, sm.params.cut
            fill, source = view_fill(expect["image_aspect"], expect["pad_fill"],
                                     sm.input.pad_fill[0] if sm.input.pad_fill else None)
            print(f"patches cut here ({len(cut['specs'])} scales), views on {expect['background']}, image_aspect "
                  f"{expect['image_aspect']}" + (f", pad fill {list(fill)} ({source})" if fill else ""), flush=True)
            for scene, image in zip(scenes, sm.input.images, strict=True):
                with temporary_views(image, cut["specs"], cut["compress_level"], expect["background"],
                                     aspect=expect["image_aspect"], fill=fill, dir=tmp) as made:
                    rate(scene, made.views, made.index_csv, tmp)
        else:  # the patch and view files of rules patches and patch_views
            for scene, views, patches in zip(scenes, sm.input.views, sm.input.patches, strict=True):
                rate(scene, views, Path(patches) / "index.csv", tmp)
