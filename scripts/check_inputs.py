"""Checkpoint check_inputs: every scene's fixations checked, then the verdict of the whole input
check (ok, or every problem) as checks/inputs.json; the log lists every problem."""
import json

from meaningmaps.atomic import save_text
from meaningmaps.data.input_checks import check_fixation_file, load_reports, verdict
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    reports = load_reports(sm.input.scenes)
    if sm.input.fixations:
        reports.append(check_fixation_file(sm.input.fixations[0], sm.params.sizes, sm.params.outside,
                                           sm.params.settings))
    result = verdict(reports, log_path=sm.log[0])
    for c in result["problems"]:
        print(c["problem"]["message"])
    print(result["summary"], end="")
    save_text(sm.output[0], json.dumps(result, indent=1) + "\n")
