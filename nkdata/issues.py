"""Validation findings and the error that carries them.

A finding always names where (file, study, cohort), what (field) and which rule,
so a curator can fix a file without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Rules whose findings are warnings: listed by `python -m nkdata validate`, never failing it or the build.
WARNING_RULES: frozenset[str] = frozenset(
    {"non_canonical_host", "results_linkage", "trial_id_consistent", "formula_like_text"}
)


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
        """False for a warning: a finding of a warning rule, or one raised with level "warning"."""
        return self.level != "warning" and self.rule not in WARNING_RULES

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


def is_warning(issue: Issue) -> bool:
    return not issue.is_error


def errors_only(issues: list[Issue]) -> list[Issue]:
    """The findings that make data unusable (warnings left out)."""
    return [i for i in issues if i.is_error]
