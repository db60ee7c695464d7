"""Formats other than the envc spec, each format's reader and writer side by side.

Readers (conda_env, requirements, conda_lock, mlflow, azureml_v1, azureml_v2, chosen by detect)
turn a file into the Document an envc spec gives, below validation. Writers (*_export, envc_spec)
turn a checked Spec into another format; they sit above the spec layer."""
