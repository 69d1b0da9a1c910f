"""Rule check_scene: one scene's image, ratings and maps checked as their jobs will read them; the
problems are recorded in the report (checkpoint check_inputs reports them all), not raised."""
import json

from meaningmaps.atomic import save_text
from meaningmaps.data.input_checks import check_scene_files
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    report = check_scene_files(sm.wildcards.scene, sm.params.size, sm.params.specs,
                               image=sm.input.get("image"), ratings=sm.input.get("ratings"), maps=sm.params.maps)
    for c in report["checked"]:
        print(f"{c['label']}: {c['path']}: {'PROBLEM' if c['problem'] else 'ok'} ({c['seconds']:.2f} s)")
        if c["problem"]:
            print(f"  {c['problem']['message']}")
    save_text(sm.output[0], json.dumps(report, indent=1) + "\n")
