"""Checkpoint check_inputs: every scene's fixations checked, then the verdict of the whole input
check (ok, or every problem) as checks/inputs.json; the log lists every problem. The study's
summary of kept and dropped fixations goes on the console too (a local job: the user's terminal)."""
import json

from meaningmaps.atomic import save_text
from meaningmaps.data.input_checks import check_fixation_file, fixation_summary, load_reports, verdict
from meaningmaps.workflow.rule_support import logged, to_console

with logged(snakemake):
    sm = snakemake
    reports = load_reports(sm.input.scenes)
    if sm.input.fixations:
        reports.append(check_fixation_file(sm.input.fixations[0], sm.params.sizes, sm.params.outside,
                                           sm.params.settings))
    summary = fixation_summary(reports)
    if summary:
        to_console(f"input check: fixations: {summary}")
    result = verdict(reports, log_path=sm.log[0])
    for c in result["problems"]:
        print(c["problem"]["message"])
    print(result["summary"], end="")
    save_text(sm.output[0], json.dumps(result, indent=1) + "\n")
