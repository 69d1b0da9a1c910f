# The base model: a hub id or a local folder (config model.base), or a tiny random LLaVA that
# this rule writes there for the offline demo and tests (config model.build_tiny).
# Module: src/meaningmaps/tiny_llava.py (and model_loading.py for the checks every model job makes)

if MODEL_SOURCES and MODEL["build_tiny"]:

    rule build_tiny_llava:
        output:
            directory(BASE),
        params:
            shape=MODEL["build_tiny"],
        log:
            f"{R}/logs/build_tiny_llava.log",
        conda:
            "../envs/model.yaml"
        script:
            "../scripts/build_tiny_llava.py"
