"""Checkpoint check_inputs: every scene's fixations checked, then the verdict of the whole input
check (ok, or every problem) as checks/inputs.json; the log lists every problem."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.atomic import save_text  # noqa: E402
from meaningmaps.input_checks import check_fixation_file, load_reports, verdict  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    reports = load_reports(sm.input.scenes)
    if sm.input.fixations:
        reports.append(check_fixation_file(sm.input.fixations[0], sm.params.sizes, sm.params.outside,
                                           sm.params.settings))
    result = verdict(reports, log_path=sm.log[0])
    for c in result["problems"]:
        print(c["problem"]["message"])
    print(result["summary"], end="")
    save_text(sm.output[0], json.dumps(result, indent=1) + "\n")
