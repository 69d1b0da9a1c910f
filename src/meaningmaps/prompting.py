"""The rating question, the six answer categories and the chat prompt the model sees.

The question is the paper's, word for word. The categories map to the raters' six-point scale:
"very low" = 1 ... "very high" = 6. The prompt is made by the processor's chat template (for the
llava-1.5 HF models: ``USER: <image>\\n<question> ASSISTANT:``) and an answer follows it as
``" <category>"``: training supervises those tokens plus the end-of-sequence token; scoring reads
the probability of the category's tokens (no category is a token prefix of another, so the six
answers are disjoint events; ``score_answers(append_eos=True)`` also scores the end token).
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


def user_message(question: str = QUESTION) -> list[dict]:
    """The one-turn conversation (an image, then the question) in the HF messages layout."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]


def prompt_text(processor, question: str = QUESTION) -> str:
    """The text the model is conditioned on, up to and including ``ASSISTANT:``."""
    if getattr(processor, "chat_template", None):
        return processor.apply_chat_template(user_message(question), add_generation_prompt=True, tokenize=False)
    return f"USER: <image>\n{question} ASSISTANT:"


def answer_suffix(category: str) -> str:
    """What follows the prompt for an answer (a space, then the category)."""
    if category not in RATING:
        raise ValueError(f"{category!r} is not one of the six categories {CATEGORIES}")
    return " " + category


_PATTERN = re.compile("|".join(re.escape(c) for c in sorted(CATEGORIES, key=len, reverse=True)), re.IGNORECASE)


def parse_category(text: str) -> str | None:
    """The category a generated answer names, matching the longest first ("very low" before "low").

    The first match in the text wins; ``None`` when no category occurs.
    """
    m = _PATTERN.search(text.replace(",", " ").replace("'", " ").replace("  ", " "))
    return m.group(0).lower() if m else None
