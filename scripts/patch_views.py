"""Rule patch_views: every patch of one scene as the model sees it (composited, padded to square under pad)."""
from meaningmaps.model.qa_jsonl import write_scene_views
from meaningmaps.model.scene_views import view_fill
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    aspect, pad_fill = sm.params.aspect, sm.params.pad_fill
    # model.pad_fill processor: the mean rule pad_fill read from the base model (its input), else the setting
    fill, source = view_fill(aspect, pad_fill, sm.input.pad_fill[0] if sm.input.pad_fill else None)
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
