"""Rule check_scene: one scene's image, ratings and maps checked as their jobs will read them; the
problems are recorded in the report (checkpoint check_inputs reports them all), not raised."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.atomic import save_text  # noqa: E402
from meaningmaps.input_checks import check_scene_files  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    report = check_scene_files(sm.wildcards.scene, sm.params.size, sm.params.specs,
                               image=sm.input.get("image"), ratings=sm.input.get("ratings"), maps=sm.params.maps)
    for c in report["checked"]:
        print(f"{c['label']}: {c['path']}: {'PROBLEM' if c['problem'] else 'ok'} ({c['seconds']:.2f} s)")
        if c["problem"]:
            print(f"  {c['problem']['message']}")
    save_text(sm.output[0], json.dumps(report, indent=1) + "\n")
