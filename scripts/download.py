"""Snakemake script: download an OSF project (rule download).

The download folder is the manifest's parent; the manifest appears only when
every file has been fetched and verified (see meaningmaps.data.osf).
"""

from pathlib import Path

from meaningmaps.data.osf import download_project

manifest = Path(snakemake.output.manifest)
Path(snakemake.log[0]).parent.mkdir(parents=True, exist_ok=True)
with open(snakemake.log[0], "w") as fh:
    try:
        download_project(
            node=snakemake.params.node,
            dest=manifest.parent,
            manifest_path=manifest,
            api_base=snakemake.params.api_base,
            log=lambda message: print(message, file=fh, flush=True),
        )
    except Exception as exc:
        print(f"FAILED: {type(exc).__name__}: {exc}", file=fh, flush=True)
        raise
