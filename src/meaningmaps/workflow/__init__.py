"""What the Snakefile and its rules need besides the config: rule-script support (log, import path,
GPU claims), rating shards, the default map sources of the evaluation. Never imports torch."""
