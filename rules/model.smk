# The base model: a hub id or a local folder (config model.base), or a tiny random LLaVA that
# this rule writes there for the offline demo and tests (config model.build_tiny; with
# model.build_tiny.tokenizer it has LLaVA-1.5's own text vocabulary).
# Subpackage model/: src/meaningmaps/model/tiny_llava.py (and loading.py for the checks every model job makes)
# Helpers (rules/common/): sources.smk (MODEL, MODEL_SOURCES), model_inputs.smk (BASE),
# input_check.smk (inputs_checked), resources.smk (LIGHT)

if MODEL_SOURCES and MODEL["build_tiny"]:
    from meaningmaps.model.tiny_llava import tokenizer_file

    TINY = MODEL["build_tiny"]
    # The tokenizer file is an input (a changed file rebuilds the model); a wrong path fails here,
    # while the DAG is built, with an error naming the config key.
    TINY_TOKENIZER = [str(tokenizer_file(TINY["tokenizer"]))] if TINY.get("tokenizer") else []

    rule build_tiny_llava:
        input:
            tokenizer=TINY_TOKENIZER,
            checked=inputs_checked,  # a bad input file stops the run before the model is built
        output:
            directory(BASE),
        params:
            shape={k: v for k, v in TINY.items() if k != "tokenizer"},
        threads: 1
        resources:
            **LIGHT,
        log:
            f"{R}/logs/build_tiny_llava.log",
        conda:
            "../envs/model.yaml"
        script:
            "../scripts/build_tiny_llava.py"
