"""Rule prompt: the exact prompt text (with its image placeholder) that training and rating use,
checked to tokenize as the original LLaVA code tokenizes it (llava_v1 mode)."""

from meaningmaps.atomic import save_text
from meaningmaps.errors import InputError
from meaningmaps.model.model_loading import load_processor
from meaningmaps.model.prompting import prompt_text, prompt_token_mismatch
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
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
