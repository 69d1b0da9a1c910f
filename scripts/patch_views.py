"""Rule patch_views: every patch of one scene as the model sees it (composited, padded to square under pad)."""

from meaningmaps.model.qa_jsonl import resolve_pad_fill, write_scene_views
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    aspect, pad_fill = sm.params.aspect, sm.params.pad_fill
    fill = resolve_pad_fill(aspect, pad_fill, sm.params.model)
    index = write_scene_views(sm.input.patches, sm.output[0], sm.params.background, aspect=aspect, fill=fill)
    print(f"{len(index)} patch views on {sm.params.background}, image_aspect {aspect}")
    if aspect == "pad":
        source = f"the image processor mean of {sm.params.model}" if pad_fill == "processor" else "model.pad_fill"
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
