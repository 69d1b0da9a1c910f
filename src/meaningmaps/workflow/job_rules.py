"""The rules a job process runs, from its command line: a SLURM job (or any job Snakemake starts as a
process of its own) reads the whole workflow again to run one job, or one group job.

The map jobs of the model sources are rules made per shard of scenes (rules/maps.smk): about one
rule per ten scenes. Made in every job process, they would cost each job about a millisecond per
rule, a cost that grows as the number of scenes times the number of jobs. A job process makes only
the rules it runs: Snakemake names them on the job's command line (``--allowed-rules``, the rules
of the job's jobs; ``snakemake_interface_executor_plugins``' ``get_job_args``).
"""

from __future__ import annotations


def rules_of_this_job(argv: list[str]) -> frozenset[str] | None:
    """The rule names after ``--allowed-rules`` in ``argv`` (a job's ``snakemake`` command line), or
    None where it names none: then the job process makes every rule, as the planning process does."""
    names: list[str] = []
    for i, arg in enumerate(argv):
        if arg.startswith("--allowed-rules="):
            names += arg.split("=", 1)[1].split()
        elif arg == "--allowed-rules":
            for value in argv[i + 1:]:
                if value.startswith("-"):
                    break
                names += value.split()
    return frozenset(names) or None
