"""Batch issuance: a CSV or JSON-lines file of people in, codes, PNGs and printed cards out, resumably."""

from healthcred.batch.run import (
    BATCH_FILE_FORMAT,
    COLUMNS,
    JOURNAL_FORMAT,
    BadRow,
    BatchSummary,
    run_batch,
)

__all__ = [
    "BATCH_FILE_FORMAT",
    "COLUMNS",
    "JOURNAL_FORMAT",
    "BadRow",
    "BatchSummary",
    "run_batch",
]
