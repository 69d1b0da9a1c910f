"""Rule prompt: the exact prompt text (with its image placeholder) that training and rating use,
checked to tokenize as the original LLaVA code tokenizes it (llava_v1 mode)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.atomic import save_text  # noqa: E402
from meaningmaps.errors import InputError  # noqa: E402
from meaningmaps.model_loading import load_processor  # noqa: E402
from meaningmaps.prompting import prompt_text, prompt_token_mismatch  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    processor = load_processor(sm.params.model)
    text = prompt_text(processor, sm.params.mode)
    print(f"prompt ({sm.params.mode}): {text!r}")
    mismatch = prompt_token_mismatch(processor.tokenizer, text, processor.image_token)
    if mismatch and sm.params.mode == "llava_v1":
        raise InputError(sm.params.model, "its tokenizer does not tokenize the llava_v1 prompt as the original "
                         f"LLaVA code does (llava/mm_utils.py tokenizer_image_token): {mismatch}. The model "
                         "would not see the token ids the paper's model saw.",
                         "use the model's processor as llava-hf ships it (its tokenizer.json splits text "
                         "around <image> as LLaVA does), or set model.prompt: chat_template.")
    print("tokenized as the original LLaVA tokenizes it" if not mismatch else f"token ids differ from "
          f"LLaVA's tokenizer_image_token ({mismatch}); allowed in {sm.params.mode} mode")
    save_text(sm.output[0], text)  # exactly the prompt: no newline is added
