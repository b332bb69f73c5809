"""Reading YAML that someone else wrote: bounded, strict and with errors that quote little.

Scenarios and sweep files may come from people who did not write them (shared libraries,
sweeps, a web front end), so the reader treats them as hostile input:

- **Size**: the file is read through ``input_files.read_regular_file`` (a regular file of at
  most ``MAX_YAML_BYTES``); devices, FIFOs and ``/proc`` streams are refused before reading.
- **Encoding**: strict UTF-8 (a BOM is allowed); a bad byte is reported with its line.
- **Nesting**: at most ``MAX_DEPTH`` nested collections, checked while composing, so a
  ``[[[[…]]]]`` bomb ends in a message rather than a ``RecursionError``.
- **Aliases** (``&a`` / ``*a``): allowed — a shared spacecraft design is a fair use — but the
  document *as expanded* may hold at most ``MAX_EXPANDED_NODES`` nodes, which refuses a
  "billion laughs" bomb before anything walks the expansion; self-referencing aliases are
  refused.
- **Duplicate keys** are an error naming both lines (PyYAML silently keeps the last one).
- **Tags**: only the YAML safe tags; a tagged value that does not convert (``!!int 'zz'``,
  ``!!timestamp 'x'``, ``2027-02-30``, an integer of more than 4,300 digits) is an error with
  its line instead of a traceback.
- **Booleans**: only ``true``/``false`` (any case form YAML 1.2 allows). YAML 1.1 also reads
  ``yes``/``no``/``on``/``off`` as booleans, which turns the country code ``NO`` into
  ``False``; here they stay strings (pydantic still accepts them for a boolean field).
  Sexagesimal numbers (``18:00`` read as 1080) are dropped for the same reason.

Every error is a ``ScenarioError`` whose message names the file and line and quotes at most a
shortened value (``errors.shorten``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orbitgrid.errors import ScenarioError, shorten
from orbitgrid.input_files import read_regular_file

# A hand-written scenario is a few kB; inline endpoint lists reach a few hundred kB. Bulk data
# belongs in endpoint or element files, which have their own bounds.
MAX_YAML_BYTES = 2 * 2**20
# Deeper than any scenario needs (about 6 levels), far below Python's recursion limit.
MAX_DEPTH = 64
# Nodes of the document with every alias expanded: a scenario of 10,000 inline endpoints is
# ~100,000 nodes; a 9-level billion-laughs bomb is 10⁹.
MAX_EXPANDED_NODES = 1_000_000
# Integers of more than about 100 digits (2³³² ≈ 8.7e99) are refused where they are read.
MAX_INTEGER_BITS = 332


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1 implicit types minus 1.1's surprising booleans and base-60 numbers."""


_Resolver.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe constructor that refuses duplicate keys and reports bad tagged values."""

    def __init__(self) -> None:
        super().__init__()
        # The key each value node was given under, to name the field in an error.
        self._keys: dict[int, str] = {}

    def _field(self, node: Node) -> str:
        key = self._keys.get(id(node))
        return f"{key}: " if key else ""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as error:
            # SafeConstructor lets int('zz'), date(2027, 2, 30) or a 5,000-digit integer
            # escape as plain exceptions; give them the node's line instead.
            value = node.value if isinstance(node, ScalarNode) else node.tag
            reason = str(error).split("\n")[0].split(";")[0][:120]
            if isinstance(error, AttributeError | TypeError | KeyError) or not reason:
                reason = "not in the form this tag needs"  # the library's words would mislead
            raise ConstructorError(
                None,
                None,
                f"{self._field(node)}cannot read {shorten(value)} as {_tag_name(node.tag)} "
                f"({reason})",
                node.start_mark,
            ) from None
        if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
            # Beyond ~1e100 no count or seed makes sense, and past 1e308 float() raises
            # OverflowError wherever a number is converted.
            raise ConstructorError(
                None,
                None,
                f"{self._field(node)}the integer {shorten(value)} is too large; numbers in a "
                "scenario have at most 100 digits",
                node.start_mark,
            )
        return value

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # '<<' merges are overridden by explicit keys, by design
                key = self.construct_object(key_node, deep=True)
                if isinstance(key_node, ScalarNode):
                    self._keys[id(value_node)] = shorten(key_node.value, 40).strip("'")
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable: the base class reports it
                if first is not None:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {shorten(key)} (first on line {first}); each key may "
                        "appear once in a mapping",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_Constructor.add_constructor(
    "tag:yaml.org,2002:bool", yaml.constructor.SafeConstructor.construct_yaml_bool
)


class _BoundedLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Constructor,
    _Resolver,
):
    """Pure-Python loader (so composing can be bounded) with the checks of the module."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep; a scenario needs a handful",
                    event.start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node:
        node = super().compose_document()
        _check_expansion(node)
        return node


def _tag_name(tag: str) -> str:
    short = tag.removeprefix("tag:yaml.org,2002:")
    return {"int": "an integer", "float": "a number", "timestamp": "a date"}.get(short, short)


def _check_expansion(root: Node) -> None:
    """Refuse documents whose alias expansion is too large, or that refer to themselves.

    The expanded size of a node is 1 plus that of its children, memoised per node object, so
    the check costs the size of the *composed* graph, not of the expansion.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk: the graph is at most MAX_DEPTH deep, but a wide one should not
    # cost Python frames either.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_EXPANDED_NODES:
                raise ComposerError(
                    None,
                    None,
                    f"aliases (*name) expand this document to more than "
                    f"{MAX_EXPANDED_NODES:,} values; refusing (an alias bomb?)",
                    node.start_mark,
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ComposerError(
                None, None, "an alias refers to a value that contains it", node.start_mark
            )
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise ComposerError(
                    None, None, "an alias refers to a value that contains it", child.start_mark
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _describe(error: yaml.YAMLError, text: str) -> str:
    """A YAML error as one line: "line N, column M: problem", without the file excerpt.

    PyYAML's own text quotes the offending source line with a caret; that is the user's own
    file, but may be megabytes on one line, so it is left out.
    """
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.problem and not error.context.startswith("while"):
            problem = f"{error.context}, {error.problem}"  # "expected a single document, but…"
        return f"{where}{problem}"
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return (
            f"line {line}: character U+{code:04X} is not allowed in YAML (control characters "
            "other than tab and newline are refused)"
        )
    return str(error).split("\n")[0][:200]


def parse_yaml(text: str, source: str) -> Any:
    """Parse one YAML document from ``text`` with the bounds of this module."""
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader checks the characters here already
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise ScenarioError(
            f"{source}: not valid YAML: {_describe(error, text)}", path="", value=None
        ) from None
    except RecursionError:
        # A safety net only: MAX_DEPTH keeps composing far from the limit.
        raise ScenarioError(
            f"{source}: not valid YAML: nested too deeply", path="", value=None
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def decode_utf8(raw: bytes, source: str) -> str:
    """``raw`` as UTF-8 text (a leading BOM dropped); a bad byte is reported with its line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ScenarioError(
            f"{source}: line {line}: byte 0x{raw[error.start]:02x} is not UTF-8; save the file "
            "as UTF-8 text",
            path="",
            value=None,
        ) from None


def load_yaml_file(path: str | Path, what: str = "scenario") -> Any:
    """Read and parse a YAML file with every bound of this module (see the module docstring)."""
    raw = read_regular_file(path, what=f"{what} file", max_bytes=MAX_YAML_BYTES)
    return parse_yaml(decode_utf8(raw, str(path)), str(path))
