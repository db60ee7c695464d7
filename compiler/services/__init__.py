"""Services on top of the pipeline: the result cache, the local registry, and image builds."""
