"""Rule patch_views: every patch of one scene as the model sees it (composited, padded to square under pad)."""
import json
from pathlib import Path

from meaningmaps.model.qa_jsonl import resolve_pad_fill, write_scene_views
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    aspect, pad_fill = sm.params.aspect, sm.params.pad_fill
    if sm.input.pad_fill:  # model.pad_fill processor: the mean rule pad_fill read from the base model
        found = json.loads(Path(sm.input.pad_fill[0]).read_text())
        fill, source = tuple(found["fill"]), f"the image processor mean of {found['model']}"
    else:
        fill, source = resolve_pad_fill(aspect, pad_fill), "model.pad_fill"
    index = write_scene_views(sm.input.patches, sm.output[0], sm.params.background, aspect=aspect, fill=fill)
    print(f"{len(index)} patch views on {sm.params.background}, image_aspect {aspect}")
    if aspect == "pad":
        print(f"pad fill {list(fill)} ({source})")
    for scale, part in index.groupby("scale", sort=False):
        odd = part[part["patch_width"] != part["patch_height"]]
        verb = "padded to square" if aspect == "pad" else "left non-square"
        line = f"{scale}: {len(odd)} of {len(part)} views {verb}"
        if len(odd):
            tense = "would have cut" if aspect == "pad" else "cuts"
            line += (f"; the processor's centre crop {tense} median {odd['crop_cut'].median():.1%}, "
                     f"max {odd['crop_cut'].max():.1%} of their visible circle")
        print(line)
