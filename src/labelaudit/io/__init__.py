"""Files: the results folder (manifest, atomic writes, inputs never overwritten) and tables.

* :class:`ResultsWriter` stages the files of one run and commits them, the manifest last;
  :func:`read_results` opens a folder a run committed. The layout is described in
  :mod:`labelaudit.io.results`.
* :func:`write_audit_record` and :func:`read_audit_record` store an audit's results as plain
  data (:mod:`labelaudit.io.audit_record`); :func:`flagged_rows` reads one check's flagged rows.
* :func:`read_table` reads a user's .csv or .parquet table, refusing what is ambiguous;
  :func:`write_table` writes one, escaping spreadsheet formulas in CSV.
"""

from labelaudit.io.audit_record import flagged_rows, read_audit_record, write_audit_record
from labelaudit.io.results import (
    DECISIONS_FILE,
    MANIFEST_FILE,
    Dataset,
    FolderError,
    Results,
    ResultsWriter,
    atomic_write,
    check_new_output,
    overlaps,
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
    "flagged_rows",
    "overlaps",
    "read_audit_record",
    "read_results",
    "read_table",
    "row_hashes",
    "write_audit_record",
    "write_table",
]
