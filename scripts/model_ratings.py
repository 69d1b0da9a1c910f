"""Rules base_ratings / finetuned_ratings: one scene's patches rated by a LLaVA model."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.model_card import check_card  # noqa: E402
from meaningmaps.model_ratings import rate_scene  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402
from meaningmaps.trained_models import load_trained  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    s = sm.params.settings
    prompt = Path(sm.input.prompt).read_text()
    # A trained model must have been trained with this prompt and these views (its card says how).
    check_card(sm.params.model, {**sm.params.expect, "prompt": prompt}, required=sm.params.trained)
    loaded = None
    if sm.params.trained:  # a merged model, or an adapter (model.finetuned_model) merged in memory on the base
        loaded = load_trained(sm.params.model, sm.params.base, device=s["device"], dtype=s["dtype"])
    frame = rate_scene(sm.params.model, sm.input.views, Path(sm.input.patches) / "index.csv", sm.output[0],
                       mode=s["mode"], batch_size=s["batch_size"], device=s["device"], dtype=s["dtype"],
                       map_from=s["map_from"], max_new_tokens=s["max_new_tokens"], prompt=prompt,
                       model_and_processor=loaded)
    print(f"{len(frame)} patches rated by {sm.params.model}; mean rating {frame['rating'].mean():.3f}")
