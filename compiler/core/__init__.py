"""The pipeline core, in layer order: document -> (formats) -> validate -> spec -> inputs -> ir ->
lower -> emit, tied together by pipeline. See tests/test_layers.py for the layer of each module."""
