"""Everything of the vision-language model; the one subpackage that imports torch (nothing outside
it imports it but the command line).

Read in this order: loading a base (``loading``, ``tiny_llava``); what the model is asked
(``prompting``, ``sentencepiece_ids``); its training data (``labels``, ``qa_jsonl``, ``splits``);
fine-tuning (the ``finetune`` subpackage: start at ``finetune/train.py``); a trained model (``card``,
``merge``, ``release``, ``trained_models``); rating (``scene_views``, ``answer_scoring``, ``ratings``,
``probe``, ``map_images``)."""
