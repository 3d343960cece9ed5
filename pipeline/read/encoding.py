"""Text encodings of CSV inputs (SPEC §1.2): UTF-8, UTF-8 with BOM, GB18030/GBK, found without being told.

Everything here streams the file in fixed-size chunks through incremental decoders, so memory stays bounded and a
multibyte character split across two chunks is decoded correctly.
"""
from __future__ import annotations

import codecs
import gzip
import struct
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

CHUNK_SIZE = 8 << 20  # 8 MiB


class ReadError(Exception):
    """A file that cannot be read at all. str(e) is one line naming the file (and line/column where known) and why."""

    def __init__(self, path: Path | str | None, message: str, line: int | None = None, column: str | None = None):
        self.path = Path(path) if path is not None else None
        self.message = message
        self.line = line
        self.column = column
        where = str(self.path) if self.path is not None else ""
        if line is not None:
            where += f", line {line}" if where else f"line {line}"
        if column is not None:
            where += f", column {column!r}" if where else f"column {column!r}"
        text = f"{where}: {message}" if where else message
        super().__init__(" ".join(text.split()))  # one line, whatever the message held


class _TruncatedCharacter(ReadError):
    """The file ends in the middle of a multibyte character."""


def open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, decompressed on the fly for `.gz`."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def normalise_encoding(path: Path, name: str) -> str:
    """Python's canonical codec name ('GBK' -> 'gbk', 'utf8' -> 'utf-8'), or ReadError."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ReadError(path, f"unknown encoding {name!r} (try utf-8, utf-8-sig or gb18030)") from None


def _decode_chunks(path: Path, encoding: str, chunk_size: int):
    """Yield the file's text chunk by chunk; a decoding error becomes ReadError naming its line and byte offset."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0  # bytes fed to the decoder before the current chunk
    lines = 1  # physical line at the start of the decoder's pending bytes
    with open_bytes(path) as f:
        while True:
            try:
                chunk = f.read(chunk_size)
            except (OSError, EOFError) as e:  # a corrupt or truncated .gz
                raise ReadError(path, f"cannot read the file: {e}") from None
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                pending = len(e.object) - len(chunk)
                at = offset - pending + e.start
                line = lines + e.object[: e.start].count(b"\n")
                if not chunk:
                    why = f"file ends inside a {encoding} character (truncated?) at byte {at}"
                    raise _TruncatedCharacter(path, why, line=line) from None
                why = f"byte {at} (0x{e.object[e.start]:02x}) is not valid {encoding}"
                raise ReadError(path, why, line=line) from None
            lines += text.count("\n")
            offset += len(chunk)
            if text:
                yield text
            if not chunk:
                return


def _valid_utf8(data: bytes | memoryview) -> bool:
    # Arrow's full validation of a one-value string array checks its bytes as UTF-8 natively, without text objects.
    offsets = pa.py_buffer(struct.pack("<qq", 0, len(data)))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def is_utf8(path: Path, *, chunk_size: int = CHUNK_SIZE) -> bool:
    """Whether the whole file is valid UTF-8 (a BOM included), checked natively chunk by chunk: the fast answer for
    the common file. A newline byte is never part of a multibyte character, so pieces cut after one are checked
    apart. Says nothing about where a file goes wrong: decoding it (check_encoding) does."""
    carry = b""  # the bytes after the last newline so far
    with open_bytes(path) as f:
        while True:
            try:
                chunk = f.read(chunk_size)
            except (OSError, EOFError):
                return False  # decoding it again reports the broken .gz
            if not chunk:
                return _valid_utf8(carry)
            first, last = chunk.find(b"\n"), chunk.rfind(b"\n")
            if first < 0:
                carry += chunk
                continue
            if not (_valid_utf8(carry + chunk[: first + 1]) and _valid_utf8(memoryview(chunk)[first + 1: last + 1])):
                return False
            carry = chunk[last + 1:]


def check_encoding(path: Path, encoding: str, *, chunk_size: int = CHUNK_SIZE) -> None:
    """Decode the whole file; ReadError (with line) at the first byte that is not valid `encoding`."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") and is_utf8(path, chunk_size=chunk_size):
        return
    for _ in _decode_chunks(path, encoding, chunk_size):
        pass


def detect_encoding(path: Path, *, chunk_size: int = CHUNK_SIZE) -> str:
    """'utf-8-sig' (BOM), 'utf-8' (the whole file is valid UTF-8) or 'gb18030' (superset of GBK and GB2312).

    A BOM file must be valid UTF-8 throughout. A file that is neither UTF-8 nor GB18030 is a ReadError naming the
    line of the first byte GB18030 cannot decode. A UTF-8 file cut inside its last character is reported as truncated
    rather than silently decoded as GB18030 mojibake.
    """
    path = Path(path)
    with open_bytes(path) as f:
        try:
            head = f.read(3)
        except (OSError, EOFError) as e:
            raise ReadError(path, f"cannot read the file: {e}") from None
    if head == codecs.BOM_UTF8:
        check_encoding(path, "utf-8-sig", chunk_size=chunk_size)
        return "utf-8-sig"
    try:
        check_encoding(path, "utf-8", chunk_size=chunk_size)
        return "utf-8"
    except _TruncatedCharacter:
        raise
    except ReadError:
        pass
    try:
        check_encoding(path, "gb18030", chunk_size=chunk_size)
    except _TruncatedCharacter:
        raise
    except ReadError as e:
        raise ReadError(path, f"neither UTF-8 nor GB18030: {e.message}", line=e.line) from None
    return "gb18030"


def transcode_to_utf8(path: Path, encoding: str, dest: Path, *, chunk_size: int = CHUNK_SIZE) -> None:
    """Stream `path` (decompressed if .gz) decoded as `encoding` into `dest` as UTF-8 without BOM."""
    first = True
    with open(dest, "wb") as out:
        for text in _decode_chunks(path, encoding, chunk_size):
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = False
            out.write(text.encode("utf-8"))
