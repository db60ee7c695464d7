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
