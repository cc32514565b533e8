"""Files: the results folder (manifest, atomic writes, inputs never overwritten) and tables.

* :class:`ResultsWriter` stages the files of one run and commits them, the manifest last;
  :func:`read_results` opens a folder a run committed. The layout is described in
  :mod:`labelaudit.io.results`.
* :func:`read_table` reads a user's .csv or .parquet table, refusing what is ambiguous;
  :func:`write_table` writes one, escaping spreadsheet formulas in CSV.
"""

from labelaudit.io.results import (
    DECISIONS_FILE,
    MANIFEST_FILE,
    Dataset,
    FolderError,
    Results,
    ResultsWriter,
    atomic_write,
    check_new_output,
    read_results,
)
from labelaudit.io.tables import file_sha256, read_table, row_hashes, write_table

__all__ = [
    "DECISIONS_FILE",
    "MANIFEST_FILE",
    "Dataset",
    "FolderError",
    "Results",
    "ResultsWriter",
    "atomic_write",
    "check_new_output",
    "file_sha256",
    "read_results",
    "read_table",
    "row_hashes",
    "write_table",
]
