"""Rule prompt: the exact prompt texts (with their image placeholder) that training and rating use
(the same text but under model.prompt: paper), checked to tokenize as the original LLaVA code
tokenizes them (llava_v1 mode; paper mode rebuilds the original ids itself where the vocabulary allows)."""

from meaningmaps.atomic import save_text
from meaningmaps.errors import InputError
from meaningmaps.model.loading import load_processor
from meaningmaps.model.prompting import prompt_text, prompt_token_mismatch
from meaningmaps.model.sentencepiece_ids import paper_processor
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    processor = load_processor(sm.params.model)
    text = prompt_text(processor, sm.params.mode)
    print(f"prompt ({sm.params.mode}): {text!r}")
    mismatch = prompt_token_mismatch(processor.tokenizer, text, processor.image_token)
    if mismatch and sm.params.mode == "llava_v1":  # (paper mode makes its ids itself: sentencepiece_ids)
        raise InputError(sm.params.model, "its tokenizer does not tokenize the llava_v1 prompt as the original "
                         f"LLaVA code does (llava/mm_utils.py tokenizer_image_token): {mismatch}. The model "
                         "would not see the token ids the paper's model saw.",
                         "use the model's processor as llava-hf ships it (its tokenizer.json splits text "
                         "around <image> as LLaVA does), or set model.prompt: chat_template.")
    print("tokenized as the original LLaVA tokenizes it" if not mismatch else f"token ids differ from "
          f"LLaVA's tokenizer_image_token ({mismatch}); allowed in {sm.params.mode} mode")
    rating = prompt_text(processor, sm.params.mode, phase="rate")
    if sm.params.mode == "paper":
        _, token_ids = paper_processor(processor)
        print(f"rating prompt (paper): {rating!r}")
        print("token ids: the original LLaVA code's (SentencePiece BPE, tokenizer_image_token)" if token_ids ==
              "sentencepiece" else "token ids: the processor's (its vocabulary is not Llama-2's SentencePiece one)")
    save_text(sm.output[0], text)  # exactly the prompt: no newline is added
    save_text(sm.output[1], rating)
