"""Read stage: a file on disk -> RawTable (String columns named by the file's headers, plus _line and _error)."""
from pipeline.read.encoding import ReadError, detect_encoding
from pipeline.read.formats import RawTable, explain, open_table, relaxed
from pipeline.read.headers import HeaderMap, load_mapping, mapping_for, resolve_headers

__all__ = [
    "ReadError", "RawTable", "explain", "relaxed", "HeaderMap", "detect_encoding", "open_table", "resolve_headers", "load_mapping",
    "mapping_for",
]
