"""The rating question, the six answer categories and the prompt the model sees.

The question is the paper's, word for word. The categories map to the raters' six-point scale:
"very low" = 1 ... "very high" = 6. Two prompt modes (config ``model.prompt``):

* ``llava_v1`` (default, the paper's): the original LLaVA v1 conversation (separator style TWO):
  ``<system> USER: <image>\\n<question> ASSISTANT:``, with the system prompt :data:`LLAVA_V1_SYSTEM`;
  in training the answer follows as ``" <category></s>"``. This is LLaVA's ``conv_templates["v1"]``
  (``conv_vicuna_v1``), the template of ``--version v1`` training; LLaVA's ``conv_llava_v1``
  differs only in saying "human" for "user" in the system prompt;
* ``chat_template``: the processor's own chat template (llava-hf's llava-1.5 template has no system
  prompt: ``USER: <image>\\n<question> ASSISTANT:``);
* ``paper``: what the paper's model saw (zhanshicu/meaning-map), one prompt per phase, byte for byte.
  Training (``llava-finetune.ipynb``, ``--version v1``): ``conv_vicuna_v1`` around the question as
  ``dataset.ipynb`` wrote it (no "and" before 'very high.', a line break between its two sentences)
  after LLaVA's ``preprocess_multimodal`` stripped its outer line breaks: :data:`PAPER_TRAIN_QUESTION`.
  Rating (``inference.py``: a model path containing "v1" picks ``conv_mode = "llava_v1"``):
  ``conv_llava_v1`` (system prompt :data:`LLAVA_V1_HUMAN_SYSTEM`, "human" for "user") around
  ``<image>\\n`` + the query exactly as the script writes it (:data:`PAPER_RATING_QUERY`: a leading
  line break, 4-space indents, a trailing ``" \\n    "``). The token ids are the original LLaVA
  code's (SentencePiece, :mod:`meaningmaps.model.sentencepiece_ids`), not the fast tokenizer's.

Training supervises the answer's tokens plus the end-of-sequence token; scoring reads the
probability of the category's tokens (no category is a token prefix of another, so the six
answers are disjoint events; ``score_answers(append_eos=True)`` also scores the end token).
Generated answers are read by :func:`parse_category` (whole words, longest category first).
"""

from __future__ import annotations

import re

QUESTION = ("Please assess the meaningfulness of the depicted patch using the following scale: 'very low,' "
            "'low,' 'somewhat low,' 'somewhat high,' 'high,' and 'very high.' Provide your response by "
            "selecting one of these categories.")
CATEGORIES = ("very low", "low", "somewhat low", "somewhat high", "high", "very high")
RATING = {c: i + 1 for i, c in enumerate(CATEGORIES)}

# llava-hf/llava-1.5-*-hf's template (vicuna style, no system prompt): images first, then text.
LLAVA15_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}"
    "{% endif %}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}"
    "{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


PROMPT_MODES = ("llava_v1", "chat_template", "paper")
PHASES = ("train", "rate")
# The system prompt of LLaVA's conv_vicuna_v1 = conv_templates["v1"] (llava/conversation.py), word for
# word: the one `--version v1` fine-tuning used (conv_llava_v1 says "human" where this says "user").
LLAVA_V1_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
                   "helpful, detailed, and polite answers to the user's questions.")
# LLaVA's conv_llava_v1 = conv_templates["llava_v1"], the one the paper's inference.py rated with.
LLAVA_V1_HUMAN_SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. The assistant "
                         "gives helpful, detailed, and polite answers to the human's questions.")
# dataset.ipynb's `instruction` (the question the paper trained on), after preprocess_multimodal's strip.
PAPER_TRAIN_QUESTION = ("Please assess the meaningfulness of the depicted patch using the following scale: "
                        "'very low,' 'low,' 'somewhat low,' 'somewhat high,' 'high,' 'very high.'\n"
                        "Provide your response by selecting one of these categories.")
# inference.py's `query`, as the triple-quoted string holds it (passed as it is: nothing strips it).
PAPER_RATING_QUERY = ("\n    Please assess the meaningfulness of the depicted patch using the following scale: "
                      "'very low,' 'low,' 'somewhat low,' 'somewhat high,' 'high,' 'very high.' \n"
                      "    Provide your response by selecting one of these categories. \n    ")


def user_message(question: str = QUESTION) -> list[dict]:
    """The one-turn conversation (an image, then the question) in the HF messages layout."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]


def check_prompt_mode(mode: str) -> str:
    if mode not in PROMPT_MODES:
        raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, not {mode!r} (config key model.prompt)")
    return mode


def prompt_text(processor, mode: str = "llava_v1", question: str = QUESTION, phase: str = "train") -> str:
    """The text the model is conditioned on, up to and including ``ASSISTANT:``, with the processor's
    image placeholder (which the processor expands into the image tokens). ``phase`` (``train`` or
    ``rate``) matters in ``paper`` mode only, whose question is its own (``question`` is ignored).

    ``llava_v1``: ``conv_templates["v1"].get_prompt()`` of LLaVA (separator style TWO) for one user turn
    ``<image>\\n<question>`` and an open assistant turn. ``chat_template``:
    ``processor.apply_chat_template`` with the generation prompt (a processor without a template gets
    the llava-1.5 layout without a system prompt).
    """
    check_prompt_mode(mode)
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, not {phase!r}")
    image = getattr(processor, "image_token", None) or "<image>"
    if mode == "paper" and phase == "train":
        return f"{LLAVA_V1_SYSTEM} USER: {image}\n{PAPER_TRAIN_QUESTION} ASSISTANT:"
    if mode == "paper":
        return f"{LLAVA_V1_HUMAN_SYSTEM} USER: {image}\n{PAPER_RATING_QUERY} ASSISTANT:"
    if mode == "llava_v1":
        return f"{LLAVA_V1_SYSTEM} USER: {image}\n{question} ASSISTANT:"
    if getattr(processor, "chat_template", None):
        return processor.apply_chat_template(user_message(question), add_generation_prompt=True, tokenize=False)
    return f"USER: {image}\n{question} ASSISTANT:"


def llava_reference_ids(tokenizer, prompt: str, image_token: str = "<image>") -> list:
    """The prompt's ids as the original LLaVA code makes them (``llava/mm_utils.py``
    ``tokenizer_image_token``): each chunk between image placeholders tokenized on its own (so each
    gets SentencePiece's leading ``▁``), the BOS kept once at the start, and one ``"<image>"`` marker
    (a str, not an id) where the image goes."""
    chunks = [list(tokenizer(c)["input_ids"]) for c in prompt.split(image_token)]
    bos = getattr(tokenizer, "bos_token_id", None)
    offset = 1 if chunks and chunks[0] and bos is not None and chunks[0][0] == bos else 0
    ids: list = chunks[0][:1] if offset else []
    for k, chunk in enumerate(chunks):
        if k:
            ids.append(image_token)
        ids.extend(chunk[offset:])
    return ids


def prompt_token_mismatch(tokenizer, prompt: str, image_token: str = "<image>") -> str | None:
    """None when the tokenizer turns ``prompt`` (with one image placeholder, as the processor does
    before expanding it) into exactly the ids the original LLaVA code makes (:func:`llava_reference_ids`);
    else a description of the first difference. Tokenizers can differ here around the placeholder
    (a ``▁`` after it or not), which changes what the model sees."""
    image_id = tokenizer.convert_tokens_to_ids(image_token)
    ours = [image_token if i == image_id else i for i in tokenizer(prompt)["input_ids"]]
    ref = llava_reference_ids(tokenizer, prompt, image_token)
    if ours == ref:
        return None
    k = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), min(len(ours), len(ref)))
    return (f"{len(ours)} ids against LLaVA's {len(ref)}; first difference at position {k}: "
            f"{ours[max(k - 3, 0):k + 3]} against LLaVA's {ref[max(k - 3, 0):k + 3]}")


def answer_suffix(category: str) -> str:
    """What follows the prompt for an answer (a space, then the category)."""
    if category not in RATING:
        raise ValueError(f"{category!r} is not one of the six categories {CATEGORIES}")
    return " " + category


# Whole words only, case-insensitive, longest category first; the words of a two-word category may
# be separated by any run of spaces, line breaks, hyphens or underscores ("somewhat-high").
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(r"[\s_-]+".join(map(re.escape, c.split()))
                                     for c in sorted(CATEGORIES, key=len, reverse=True)) + r")(?![A-Za-z0-9])",
    re.IGNORECASE)


# The paper's answer table (generate_meaning_map.py likert_to_numeric): exact, case-sensitive matches
# of the whole (stripped) answer; "Low", "High" and anything else are not in it and score 0.
PAPER_TABLE = {"very low": 1, "Very low": 1, "low": 2, "somewhat low": 3, "Somewhat low": 3,
               "somewhat high": 4, "Somewhat high": 4, "high": 5, "very high": 6, "Very high": 6}


def paper_table_rating(text) -> int:
    """The paper's number for a generated answer: :data:`PAPER_TABLE`'s, else 0 (still counted in the
    paper's map). ``text`` is the answer as decoded and stripped; a non-string (an empty CSV cell read
    back as NaN, as the paper's pandas did) is 0."""
    return PAPER_TABLE.get(text, 0) if isinstance(text, str) else 0


def parse_category(text: str) -> str | None:
    """The category a generated answer names: the first whole-word match in the text, the longest
    category first at a position ("very low" before "low"), case-insensitive, across punctuation,
    hyphens and line breaks; ``None`` when no category occurs ("highly", "yellow" name none)."""
    m = _PATTERN.search(text)
    return " ".join(re.split(r"[\s_-]+", m.group(1).lower())) if m else None
