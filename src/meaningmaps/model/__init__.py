"""Everything of the vision-language model: the tiny offline LLaVA, loading, prompts, labels and Q&A
data, splits and folds, LoRA fine-tuning, merge, answer scoring, model ratings, the linear probe."""
