"""Rule prompt: the exact prompt text (with its image placeholder) that training and rating use."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.atomic import save_text  # noqa: E402
from meaningmaps.model_loading import load_processor  # noqa: E402
from meaningmaps.prompting import prompt_text  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    text = prompt_text(load_processor(sm.params.model), sm.params.mode)
    save_text(sm.output[0], text)  # exactly the prompt: no newline is added
    print(f"prompt ({sm.params.mode}): {text!r}")
