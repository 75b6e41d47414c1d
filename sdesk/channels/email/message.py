"""The stdlib's MIME parser (``email.feedparser``, compat32) with the guards it lacks.

``BoundedMessage`` is the message factory handed to the feedparser. Through the hooks the parser
calls on it, it bounds what one hostile message can cost:

- it counts entities as the parser attaches them and stops the parser past a cap, keeping the
  tree built so far (the feedparser spends ~20 us on every part, however tiny);
- entities deeper than ``max_depth`` report ``text/plain``, so the parser keeps them as raw text
  instead of descending: it tests every line against every open boundary (cost = lines x depth)
  and nests a generator per level (RecursionError near 1,000 levels);
- the header values it returns are capped (the parameter parser ``_parseparam`` is quadratic and
  runs once per part) and always the received ``str`` (compat32 wraps raw 8-bit values in a
  lossy ``Header``);
- empty or over-long boundaries count as missing (RFC 2046: 1-70 characters), and parameter
  lookups never raise (``decode_params`` sorts None against int on mixed RFC 2231 sections).

Parsed messages are read-only here: content types are cached on first use.

``_FeedParser`` is the stdlib's own parser code with one cost taken out: for every multipart it
compiles a regular expression of the boundary (~0.15 ms each, a fifth of parsing typical mail,
as boundaries are unique and miss ``re``'s cache). Its generator runs here with a ``re`` whose
``compile`` returns, for exactly that expression, an equivalent matcher: the literal separator
by ``startswith``, the rest by one precompiled expression. Any other pattern goes to ``re``.
"""

from __future__ import annotations

import email.feedparser
import email.policy
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import collapse_rfc2231_value
from functools import lru_cache
from types import MappingProxyType
from typing import Any

PARSE_POLICY = email.policy.compat32
# What ``get`` returns of one value. The parameter parser is quadratic (0.2 s for 16 KiB with an
# open quote) and runs once per part: 24 parameters (RFC 2231 splits long names into ~20
# sections) from at most 4 KiB cost < 0.25 ms.
MAX_HEADER_CHARS = 4096
MAX_PARAMS = 24
_PARAM_HEADERS = frozenset({"content-type", "content-disposition"})
MAX_BOUNDARY_CHARS = 200
# Measured costs of parsing and transfer-decoding on the reference 2-core box (parse_cost).
_FIELD_US = 2.2  # a header field or continuation line
_LINE_US = 0.55  # any line
_LEVEL_US = 0.1  # per line, per open multipart around it
_BYTE_US = 0.025  # per byte: line objects, payload joins, base64 decoding
_CHEAP_BYTES = 64 * 1024  # below this no message can cost more than ~0.2 s
_MISSING = object()
_CACHED_VALUE_CHARS = 1024
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})

ParamValue = str | tuple[str | None, str | None, str]


class PartCapReached(Exception):
    """Raised inside the feedparser to stop it; the tree attached so far stays usable."""


@dataclass(slots=True)
class _Guard:
    max_depth: int
    max_parts: int
    parts: int = 0
    root: BoundedMessage | None = None


class BoundedMessage(Message):
    """A compat32 ``Message`` that bounds the feedparser's work (see the module docstring)."""

    depth = 0
    guard: _Guard | None = None
    _ctype: str | None = None
    _index: dict[str, str] | None = None
    _indexed = 0
    _headers: list[tuple[str, Any]]  # set by Message.__init__; typeshed leaves it out (private)

    def attach(self, payload: Any) -> None:
        """Count the part and record its depth; past the cap, stop the parser."""
        guard = self.guard
        if guard is not None and isinstance(payload, BoundedMessage):
            guard.parts += 1
            if guard.parts > guard.max_parts:
                raise PartCapReached
            payload.depth = self.depth + 1
        super().attach(payload)

    def get(self, name: str, failobj: Any = None) -> Any:
        """First value as received (8-bit bytes surrogate-escaped), capped.

        compat32's fetch step only wraps 8-bit values in ``Header``, whose ``str()`` turns the
        bytes into U+FFFD; skipping it keeps them for the charset fallbacks.
        """
        name = name.lower()
        value = self.first_values().get(name)
        if value is None:
            return failobj
        if len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
        if name in _PARAM_HEADERS and value.count(";") > MAX_PARAMS:
            value = ";".join(value.split(";", MAX_PARAMS + 1)[: MAX_PARAMS + 1])
        return value

    def first_values(self) -> dict[str, str]:
        """Lower-cased field name → first raw value; built once, not per lookup as
        ``Message.get`` scans (a message may carry 100,000 fields). Rebuilt if fields are added.
        """
        index = self._index
        if index is None or self._indexed != len(self._headers):
            index = {}
            for key, value in self._headers:
                key = key.lower()
                if key not in index:
                    index[key] = value if type(value) is str else str(value)
            self._index, self._indexed = index, len(self._headers)
        return index

    def get_content_type(self) -> str:
        """Cached (the parser asks ~8 times per part); too deep → ``text/plain``."""
        ctype = self._ctype
        if ctype is None:
            ctype = super().get_content_type()
            if " " in ctype or "\t" in ctype:  # "text/html (comment)": the type is the first word
                ctype = ctype.split(None, 1)[0] if ctype.strip() else ""
            main, _, sub = ctype.partition("/")
            if not main or not sub or "/" in sub:
                ctype = self.get_default_type()  # RFC 2045 5.2: invalid means the default
            guard = self.guard
            if guard is not None and self.depth > guard.max_depth:
                ctype = "text/plain"  # kept as raw text; the walk skips it with a note
            self._ctype = ctype
        return ctype

    def get_boundary(self, failobj: Any = None) -> Any:
        """None for an empty or over-long boundary: the body is then shown as text."""
        boundary = super().get_boundary(_MISSING)
        if not isinstance(boundary, str) or not 0 < len(boundary) <= MAX_BOUNDARY_CHARS:
            return failobj
        return boundary

    def get_params(
        self, failobj: Any = None, header: str = "content-type", unquote: bool = True
    ) -> Any:
        """``Message.get_params``, or ``failobj`` where the stdlib's RFC 2231 code raises."""
        try:
            return super().get_params(failobj, header, unquote)
        except (TypeError, ValueError):
            return failobj

    def get_param(
        self,
        param: str,
        failobj: Any = None,
        header: str = "content-type",
        unquote: bool = True,
    ) -> Any:
        """``Message.get_param``, or ``failobj`` where the stdlib's RFC 2231 code raises."""
        try:
            return super().get_param(param, failobj, header, unquote)
        except (TypeError, ValueError):
            return failobj


# email.feedparser builds '(?P<sep>' + re.escape('--' + boundary) + _BOUNDARY_TAIL per multipart
_BOUNDARY_HEAD = "(?P<sep>"
_BOUNDARY_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_TAIL = re.compile(_BOUNDARY_TAIL[1:])
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)  # re.escape puts a backslash before a character


class _BoundaryMatch:
    """``match`` of the feedparser's boundary expression: the separator literally, the rest
    (``end``, ``ws``, ``linesep`` groups, the same Match object) by ``_TAIL`` from there."""

    __slots__ = ("_separator", "_n")

    def __init__(self, separator: str) -> None:
        self._separator = separator
        self._n = len(separator)

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self._separator):
            return None
        return _TAIL.match(line, self._n)


class _Re:
    """The ``re`` the copied feedparser generator sees (see the module docstring)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    @staticmethod
    def compile(pattern: Any, flags: int = 0) -> Any:
        if (
            not flags
            and isinstance(pattern, str)
            and pattern.startswith(_BOUNDARY_HEAD)
            and pattern.endswith(_BOUNDARY_TAIL)
        ):
            escaped = pattern[len(_BOUNDARY_HEAD) : -len(_BOUNDARY_TAIL)]
            if re.escape(separator := _UNESCAPE.sub(r"\1", escaped)) == escaped:
                return _BoundaryMatch(separator)
        return re.compile(pattern, flags)


def _with_re(function: Any) -> Any:
    namespace = dict(function.__globals__, re=_Re())
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__,
        function.__closure__,
    )  # fmt: skip


class _FeedParser(BytesFeedParser):
    """``BytesFeedParser`` whose multipart boundaries are matched without a compiled regex."""

    # The stdlib parser's private generator, rebuilt with ``_Re`` as its ``re``; typeshed does not
    # declare private methods.
    _parsegen = _with_re(email.feedparser.FeedParser._parsegen)  # type: ignore[attr-defined]


def parse_bytes(raw: bytes, *, max_depth: int, max_parts: int) -> tuple[BoundedMessage, bool]:
    """The MIME tree of ``raw``, and False when the part cap stopped the parser early."""
    guard = _Guard(max_depth, max_parts)

    def factory(policy: Any = PARSE_POLICY) -> BoundedMessage:
        msg = BoundedMessage(policy)
        msg.guard = guard
        if guard.root is None:
            guard.root = msg
        return msg

    parser = _FeedParser(factory, policy=PARSE_POLICY)
    guard.root = None  # the constructor calls the factory once to probe its signature
    try:
        parser.feed(raw)
        root = parser.close()
    except PartCapReached:
        if guard.root is None:
            raise
        return guard.root, False
    assert isinstance(root, BoundedMessage)
    return root, True


def header_block_end(raw: bytes) -> int:
    """Offset just past the header block's terminating empty line (LF, CRLF or CR line ends)."""
    ends = [raw.find(sep) for sep in (b"\n\n", b"\n\r\n", b"\r\r")]
    found = [i for i in ends if i >= 0]
    if not found:
        return len(raw)
    i = min(found)
    return i + (3 if raw.startswith(b"\n\r\n", i) else 2)


def parse_headers_only(block: bytes) -> BoundedMessage:
    """Just the header fields of ``block`` (a message's header bytes), by the stdlib."""
    msg = BytesHeaderParser(BoundedMessage, policy=PARSE_POLICY).parsebytes(block)
    assert isinstance(msg, BoundedMessage)
    return msg


def parse_cost(raw: bytes, max_depth: int) -> float:
    """Estimated seconds to parse and decode ``raw``, from C-speed byte counts.

    Lines that may be header fields (a colon, or a leading blank) cost four times an ordinary
    line; every line pays once more per multipart that may enclose it. An over-estimate for
    odd text (colons in prose, one huge line), close for real mail: a 20 MiB attachment in
    base64 (28 MB, 370k lines) is estimated 0.95 s and takes 0.9 s.
    """
    if len(raw) <= _CHEAP_BYTES:
        return 0.0
    lf, cr = raw.count(b"\n"), raw.count(b"\r")
    lines = lf + cr - (raw.count(b"\r\n") if lf and cr else 0)
    fields = raw.count(b":") + raw.count(b"\n ") + raw.count(b"\n\t")
    if cr:
        fields += raw.count(b"\r ") + raw.count(b"\r\t")
    depth = min(raw.lower().count(b"multipart"), max_depth + 1) if lines > 1000 else 0
    micros = min(lines, fields) * _FIELD_US + lines * (_LINE_US + _LEVEL_US * depth)
    return (micros + len(raw) * _BYTE_US) / 1e6


def raw_payload(part: Message) -> Any:
    """The payload as the parser stored it: subparts, or the body text with 8-bit bytes
    surrogate-escaped (``get_payload()`` would decode those with the declared charset)."""
    return part._payload  # type: ignore[attr-defined]  # private: typeshed does not declare it


def flatten(msg: Message, linesep: str, limit: int, *, headers: bool = True) -> bytes | None:
    """The entity as bytes, header values and bodies as received; None past ``limit`` bytes.

    An explicit stack, unlike ``as_bytes()``, which recurses per level and refolds headers.
    ``headers=False`` gives the body only (for message/rfc822: the encapsulated message).
    """
    out: list[str] = [_head(msg, linesep)] if headers else []
    size = len(out[0]) if out else 0
    todo: list[Message | str] = _body_pieces(msg, linesep)[::-1]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            text = item
        else:
            text = _head(item, linesep)
            todo.extend(reversed(_body_pieces(item, linesep)))
        out.append(text)
        size += len(text)
        if size > limit:
            return None
    return "".join(out).encode("utf-8", "surrogateescape")


def _head(item: Message, nl: str) -> str:
    return "".join(f"{k}: {v}{nl}" for k, v in item.raw_items()) + nl


def _body_pieces(item: Message, nl: str) -> list[Message | str]:
    payload = raw_payload(item)
    if not isinstance(payload, list):
        return [payload] if isinstance(payload, str) else []
    boundary = item.get_boundary() if item.get_content_maintype() == "multipart" else None
    if boundary is None:  # message/*: the encapsulated message (or delivery-status blocks)
        return list(payload)
    pieces: list[Message | str] = [] if item.preamble is None else [item.preamble + nl]
    for i, child in enumerate(payload):
        pieces += [f"{nl if i else ''}--{boundary}{nl}", child]
    pieces.append(f"{nl}--{boundary}--{nl}")
    if item.epilogue:
        pieces.append(item.epilogue)
    return pieces


def params(part: Message, header: str = "content-type") -> Mapping[str, ParamValue]:
    """A header's parameters by the stdlib's parser (RFC 2231 values as tuples, which win)."""
    return value_params(part.get(header))[1]


def value_params(value: str | None) -> tuple[str, Mapping[str, ParamValue]]:
    """Lower-cased main value and parameters of a Content-Type/-Disposition value.

    Parsed by ``Message.get_params`` (~10 us); memoised, as mail repeats the same few values
    ("text/plain; charset=utf-8") over and over. Returns read-only mappings.
    """
    if not value:
        return "", _NO_PARAMS
    if len(value) > _CACHED_VALUE_CHARS:
        return _value_params(value)
    return _cached_value_params(value)


def _value_params(value: str) -> tuple[str, Mapping[str, ParamValue]]:
    scratch = BoundedMessage()
    scratch["Content-Type"] = value
    found = scratch.get_params()
    if not found:
        return "", _NO_PARAMS
    out: dict[str, ParamValue] = {}
    for name, param in found[1:]:
        if name not in out or isinstance(param, tuple):
            out[name] = param
    return found[0][0].strip().lower(), MappingProxyType(out)


_cached_value_params = lru_cache(maxsize=1024)(_value_params)


def content_params(value: str) -> tuple[str, Mapping[str, ParamValue]]:
    """Validated content type and parameters of a Content-Type value, without a Message."""
    scratch = BoundedMessage()
    scratch["Content-Type"] = value
    return scratch.get_content_type(), params(scratch)


def param_str(value: ParamValue | None) -> str:
    """A parameter as plain text, RFC 2231 charset ignored (for tokens such as a charset name)."""
    if value is None:
        return ""
    return collapse_rfc2231_value(value).strip()
