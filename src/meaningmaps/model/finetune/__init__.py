"""LoRA fine-tuning of LLaVA to rate scene patches."""
