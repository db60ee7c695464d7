"""envc.core.fastcheck answers exactly as jsonschema does on envc's schema (it only skips the import)."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, validators

from conftest import CORPUS, GOLDEN
from envc.common.diagnostics import SpecError
from envc.core.fastcheck import is_valid
from envc.formats.detect import load
from envc.core.validate import _ecma_pattern, schema
from spec_strategies import junk, mutate, specs

REFERENCE = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})(schema())
PROFILE = settings(max_examples=int(os.environ.get("ENVC_HYPOTHESIS_EXAMPLES", "300")), deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


def same_answer(document):
    assert is_valid(schema(), document) == REFERENCE.is_valid(document), document


@PROFILE
@given(spec=specs)
def test_generated_specs(spec):
    same_answer(spec)


@PROFILE
@given(spec=specs, data=st.data())
def test_mutated_specs(spec, data):
    same_answer(mutate(spec, data))


@PROFILE
@given(document=junk)
def test_arbitrary_documents(document):
    same_answer(document)


def test_goldens_and_corpus():
    paths = [p for p in GOLDEN.glob("*/*") if p.name in ("envc.yml", "environment.yml", "python_env.yaml")]
    paths += [p for p in CORPUS.rglob("*.y*ml") if "azuremlschemas" not in p.read_text()]
    for path in paths:
        try:
            document = load(path).data
        except SpecError:  # not even loadable: nothing for a schema to answer
            continue
        same_answer(document)


def _keywords(node):
    """Every keyword used in a schema node, its subschemas included (property names and data are not keywords)."""
    if not isinstance(node, dict):
        return
    for keyword, value in node.items():
        yield keyword
        if keyword in ("properties", "$defs", "dependentSchemas"):
            for sub in value.values():
                yield from _keywords(sub)
        elif keyword in ("items", "additionalProperties", "not", "if", "then", "else", "propertyNames"):
            yield from _keywords(value)
        elif keyword in ("anyOf", "allOf", "oneOf", "prefixItems"):
            for sub in value:
                yield from _keywords(sub)


def test_every_keyword_of_the_schema_is_known_to_the_fast_check():
    """Validating words are checked, annotations (title, examples, markdownDescription, defaultSnippets, ...) skipped:
    an unknown word would send every valid spec to jsonschema (slower, though never wrong)."""
    from envc.core.fastcheck import _KEYWORDS, ANNOTATIONS

    used = {k for k in _keywords(schema()) if not k.startswith("x-")}
    assert used - set(_KEYWORDS) - ANNOTATIONS == set()
    assert {"examples", "markdownDescription", "defaultSnippets", "markdownEnumDescriptions"} <= used  # the editor's words


def test_annotations_never_change_the_answer():
    """Every annotation word, with any value, next to a validating keyword: the answer is the validating keyword's."""
    from envc.core.fastcheck import ANNOTATIONS

    for word in ANNOTATIONS - {"$schema", "$id", "$defs"}:
        for value in ("text", ["a", {"body": "$1"}], {"k": 1}, False, None, 0):
            annotated = {"type": "string", word: value}
            assert is_valid(annotated, "x") and not is_valid(annotated, 1), word
