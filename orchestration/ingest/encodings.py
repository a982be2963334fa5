"""Which encoding a CSV file is in: UTF-8, Windows-1252, or both (then it is not guessed).

A file DuckDB reads as UTF-8 is UTF-8. A file with bytes that are not UTF-8 is Windows-1252 (what
German ERPs write) and is transcoded, unless it also holds UTF-8 text: then its rows disagree.
Transcoding such a file would turn every UTF-8 `ä` into `Ã¤`, silently; instead the rows DuckDB
read as UTF-8 are kept and each row that is not UTF-8 is quarantined, naming both encodings.
"""

from __future__ import annotations

import codecs
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

# A valid UTF-8 sequence of two to four bytes (in Windows-1252 text these are mojibake).
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


class EncodingError(ValueError):
    """Neither UTF-8 nor Windows-1252."""


@dataclass(frozen=True)
class Utf8Evidence:
    line: int  # line of the file, 1 = header
    text: str  # the word around the first UTF-8 letter, decoded


def utf8_evidence(path: Path) -> Utf8Evidence | None:
    """The first line holding UTF-8 text a person writes (Latin letters, typographic
    punctuation, €). Other byte pairs that happen to be valid UTF-8 occur in Windows-1252 text
    (`ß“` is DF 93) and are no evidence."""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            for m in UTF8_SEQUENCE.finditer(line):
                char = m.group().decode("utf-8")
                if "\u00a0" <= char <= "\u024f" or "\u2000" <= char <= "\u20ac":
                    return Utf8Evidence(number, _word_at(line, m.start()))
    return None


def _word_at(line: bytes, at: int) -> str:
    start = max(line.rfind(b";", 0, at), line.rfind(b",", 0, at), -1) + 1
    ends = [i for i in (line.find(b";", at), line.find(b",", at), len(line)) if i >= 0]
    return line[start : min(ends)].decode("utf-8", errors="replace").strip()[:40]


def line_as_cp1252(path: Path, number: int) -> str:
    """Line `number` (1 = header) of the file, read as Windows-1252: what a non-UTF-8 row says."""
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            if n == number:
                return line.decode("cp1252", errors="replace").rstrip("\r\n")
    return ""


def mixed_encoding_reason(column: str | None, evidence: Utf8Evidence) -> str:
    where = f" in {column}" if column else ""
    return (
        f"mixed encodings{where}: this row is not UTF-8 (Windows-1252?), while line "
        f"{evidence.line} of the file is UTF-8 ({evidence.text!r}): the file is not transcoded, "
        "re-export it in one encoding"
    )


def transcode_cp1252(src: Path, dst: Path) -> None:
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            reader = codecs.getreader("cp1252")(fin, errors="strict")
            writer = codecs.getwriter("utf-8")(fout)
            shutil.copyfileobj(reader, writer, 1 << 20)
    except UnicodeDecodeError as e:
        byte = e.object[e.start : e.end]
        raise EncodingError(
            f"{src}: neither UTF-8 nor Windows-1252: line {_line_with(src, byte)} of the file "
            f"holds byte 0x{byte.hex().upper()}, which Windows-1252 does not define"
        ) from None


def _line_with(path: Path, byte: bytes) -> int:
    with path.open("rb") as f:
        return next((n for n, line in enumerate(f, start=1) if byte in line), 0)
