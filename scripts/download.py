"""Snakemake script: download an OSF project (rule download).

The download folder is the manifest's parent; the manifest appears only when
every file has been fetched and verified (see meaningmaps.osf).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.osf import download_project  # noqa: E402

manifest = Path(snakemake.output.manifest)  # noqa: F821
Path(snakemake.log[0]).parent.mkdir(parents=True, exist_ok=True)  # noqa: F821
with open(snakemake.log[0], "w") as fh:  # noqa: F821
    try:
        download_project(
            node=snakemake.params.node,  # noqa: F821
            dest=manifest.parent,
            manifest_path=manifest,
            api_base=snakemake.params.api_base,  # noqa: F821
            log=lambda message: print(message, file=fh, flush=True),
        )
    except Exception as exc:
        print(f"FAILED: {type(exc).__name__}: {exc}", file=fh, flush=True)
        raise
