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

    def __str__(self) -> str:
        where = [self.file]
        if self.study_id:
            where.append(f"study {self.study_id}")
        if self.cohort_id:
            where.append(f"cohort {self.cohort_id}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: [{self.rule}] {self.message}"


class DatasetError(Exception):
    """Raised when a dataset cannot be used; ``issues`` lists every reason found."""

    def __init__(self, issues: list[Issue], hint: str = "") -> None:
        self.issues = sorted(issues)
        self.hint = hint
        lines = [str(i) for i in self.issues[:50]]
        if len(self.issues) > 50:
            lines.append(f"... and {len(self.issues) - 50} more")
        super().__init__("\n".join(lines))


# Rules whose findings are warnings: listed by `python -m nkdata validate`, never failing it or the build.
WARNING_RULES: frozenset[str] = frozenset({"non_canonical_host", "results_linkage", "trial_id_consistent"})


def is_warning(issue: Issue) -> bool:
    return issue.rule in WARNING_RULES


def errors_only(issues: list[Issue]) -> list[Issue]:
    """The findings that make data unusable (warnings left out)."""
    return [i for i in issues if not is_warning(i)]
