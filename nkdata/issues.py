"""Validation findings and the error that carries them.

A finding always names where (file, study, cohort), what (field) and which rule,
so a curator can fix a file without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Issue:
    file: str
    study_id: str | None
    cohort_id: str | None
    field: str | None
    rule: str
    message: str
    level: str = "error"  # "warning": reported, but the dataset is still usable and builds

    @property
    def is_error(self) -> bool:
        return self.level != "warning"

    def __str__(self) -> str:
        where = [self.file]
        if self.study_id:
            where.append(f"study {self.study_id}")
        if self.cohort_id:
            where.append(f"cohort {self.cohort_id}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = "warning: " if not self.is_error else ""
        return f"{prefix}{', '.join(where)}: [{self.rule}] {self.message}"


class DatasetError(Exception):
    """Raised when a dataset cannot be used; ``issues`` lists every reason found."""

    def __init__(self, issues: list[Issue], hint: str = "") -> None:
        self.issues = sorted(issues)
        self.hint = hint
        lines = [str(i) for i in self.issues[:50]]
        if len(self.issues) > 50:
            lines.append(f"... and {len(self.issues) - 50} more")
        super().__init__("\n".join(lines))
