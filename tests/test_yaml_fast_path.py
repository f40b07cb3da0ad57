"""The loader's fast path gives exactly what the full builder gives.

`parse` builds a valid, alias-free file in one pass that records only where
mappings, list entries and section-level values stand, and works the rest out from
the text when an error message asks for it. These tests hold it to the full
builder (the behaviour reference): same values, same problems, same location for
every path, key and written text — over every YAML file in the repository and over
generated documents full of YAML 1.1/1.2 look-alikes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmconf.config import yaml_source
from crmconf.config.reading import load
from crmconf.config.yaml_source import SourceDocument, parse
from crmconf.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(
    path
    for folder in ("examples", "tests/bad_inputs", "tests/fmt_fixtures")
    for path in (ROOT / folder).rglob("*.y*ml")
)


def _full(file: str, text: str) -> SourceDocument | ConfigError:
    try:
        root = yaml_source._compose(file, text)
        if root is None:
            return SourceDocument(file, None, {})
        return yaml_source._full_build(file, text, root, yaml_source._has_aliases(root))
    except ConfigError as error:
        return error


def _fast(file: str, text: str) -> SourceDocument | ConfigError:
    try:
        return parse(file, text)
    except ConfigError as error:
        return error


def same_on_both_paths(file: str, text: str) -> SourceDocument | ConfigError:
    reference, fast = _full(file, text), _fast(file, text)
    if isinstance(reference, ConfigError):
        assert isinstance(fast, ConfigError), f"{file}: the fast path accepted what is refused"
        assert fast.problems == reference.problems
        return fast
    assert isinstance(fast, SourceDocument), f"{file}: {fast}"
    # repr: NaN equals itself there, and 1, 1.0 and True stay apart, as does key order.
    assert repr(fast.value) == repr(reference.value)
    # Ask for the locations items and sections are looked up by first (the fast path's
    # own), then compare everything the full builder knows.
    for path in reference.locations:
        assert fast.location(path) == reference.location(path), (file, path)
    assert fast.locations == reference.locations
    assert fast.key_locations == reference.key_locations
    assert fast.written == reference.written
    return fast


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_file_in_the_repository_reads_the_same_on_both_paths(path: Path) -> None:
    data = path.read_bytes()
    try:
        text = yaml_source.read_text(str(path), data)
    except ConfigError:
        return  # not text: refused before either builder runs
    same_on_both_paths(str(path), text)


def test_the_corpus_is_there_and_the_fast_path_is_taken() -> None:
    """Guards the test above against passing vacuously: valid files do go the fast way."""
    assert len(YAML_FILES) > 60
    seed = ROOT / "examples" / "seed.yaml"
    document = parse(str(seed), seed.read_text(encoding="utf-8"))
    assert document._details is None, "examples/seed.yaml should be read on the fast path"
    # The items' places were recorded without working out every value's location.
    load(seed)
    assert len(document._places) < len(document.locations)


def test_a_problem_found_late_still_has_the_exact_location(tmp_path: Path) -> None:
    """A value the model rejects (a field of an item, not recorded on the fast path)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "crmconf: 1\ncategories:\n  - name: A\n    show_on: everywhere\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load(config)
    (problem,) = caught.value.problems
    assert problem.location is not None
    assert (problem.location.line, problem.location.column) == (4, 14)


_TRICKY = st.sampled_from(
    [
        "on",
        "No",
        "yes",
        "~",
        "null",
        "017",
        "0o17",
        "0x1F",
        "1_000",
        "1e5",
        ".5",
        "+12",
        "-3.0",
        ".inf",
        ".NaN",
        "2024-01-02",
        "12:30:00",
        "true",
        "False",
        "R&D",
        "*star",
        "a: b",
        "- dash",
        "#hash",
        "",
        " padded ",
        "tab\there",
        "line\nbreak",
        "\u2028sep",
        "nisse",
        "Tor",
        "fika",
        "!!str",
        "!!str 017",
        "!!int 12",
        "!!str on",
    ]
)
_SCALAR = st.one_of(
    _TRICKY,
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, width=32),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_TRICKY, st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(value=_VALUE, flow=st.booleans())
def test_generated_documents_read_the_same_on_both_paths(value: object, flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    same_on_both_paths("generated.yaml", text)


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(st.tuples(_TRICKY, _TRICKY), min_size=1, max_size=6),
    indent=st.sampled_from([2, 4]),
)
def test_plain_scalars_written_by_hand_read_the_same(
    entries: list[tuple[str, str]], indent: int
) -> None:
    """Unquoted keys and values, as a person writes them: the YAML 1.1/1.2 traps
    (`on`, `017`, `1e5`, dates), duplicates and what is not YAML at all."""
    pad = " " * indent
    text = "items:\n" + "".join(f"{pad}- {key}: {value}\n" for key, value in entries)
    text += "".join(f"{key}: {value}\n" for key, value in entries)
    same_on_both_paths("handwritten.yaml", text)


def _tags(node: yaml.Node | None) -> object:
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, node.style)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, [_tags(item) for item in node.value])
    assert isinstance(node, yaml.MappingNode)
    return (node.tag, [(_tags(key), _tags(value)) for key, value in node.value])


@settings(max_examples=200, deadline=None)
@given(value=_VALUE, flow=st.booleans(), scalar=st.one_of(_TRICKY, st.text(max_size=12)))
def test_the_quicker_tag_resolution_resolves_as_pyyaml_does(
    value: object, flow: bool, scalar: str
) -> None:
    """Same tag for every node as PyYAML's own safe loader — the behaviour reference."""
    reference = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    text += f"---\n{scalar}\n" if "\n" not in scalar and scalar.strip() == scalar else ""
    try:
        expected = [_tags(node) for node in yaml.compose_all(text, Loader=reference)]
    except yaml.YAMLError:
        return  # not YAML either way; the loader's own tests cover what it says then
    assert [_tags(node) for node in yaml.compose_all(text, Loader=yaml_source._Loader)] == expected
    for plain in ("", scalar, "017", "1_000", "2001-12-14", "~", "on", ".inf", "0x1F", "1e5"):
        loader = yaml_source._Loader("")
        assert loader.resolve(yaml.ScalarNode, plain, (True, False)) == reference("").resolve(
            yaml.ScalarNode, plain, (True, False)
        )


@pytest.mark.parametrize(
    "text",
    ["!!str \n", "a: !!str\n", "!!str : b\n", "a: !!str 017\n", "? !!str\n: v\n"],
)
def test_explicit_tags_on_plain_scalars_read_the_same(text: str) -> None:
    """Found by `make fuzz`: an empty `!!str` scalar was accepted by the fast path."""
    same_on_both_paths("tagged.yaml", text)
