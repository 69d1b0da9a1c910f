"""Rule check_scenes: a chunk of scenes, each scene's image, ratings and maps checked as their jobs
will read them; the problems are recorded in the report (checkpoint check_inputs reports them
all), not raised."""
import json

from meaningmaps.atomic import save_text
from meaningmaps.data.input_checks import check_scene_files
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    reports = []
    for scene, files in sm.params.scenes.items():
        report = check_scene_files(scene, files["size"], sm.params.specs, image=files["image"],
                                   ratings=files["ratings"], maps=files["maps"])
        for c in report["checked"]:
            print(f"{scene}: {c['label']}: {c['path']}: {'PROBLEM' if c['problem'] else 'ok'} ({c['seconds']:.2f} s)")
            if c["problem"]:
                print(f"  {c['problem']['message']}")
        reports.append(report)
    save_text(sm.output[0], json.dumps(reports, indent=1) + "\n")
