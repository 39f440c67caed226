"""The README's commands are the ones CI runs, and the repository has what a fresh machine needs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command() -> None:
    commands = _readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines
    assert "pip install -q -r requirements.txt" in test_command


def test_readme_start_command_installs_and_runs_the_entry() -> None:
    start = next(c for c in _readme_commands() if "nkapp.serve run" in c)
    # through nkapp.serve: the long-link notice and the nested-path guard from the first request
    assert "pip install -q -r requirements.txt" in start and start.endswith(
        ".venv/bin/python -m nkapp.serve run dashboard.py"
    )


def test_streamlit_floor_supports_pandas_3() -> None:
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    floor = re.search(r"^streamlit>=(\d+)\.(\d+)", requirements, re.MULTILINE)
    assert floor and (int(floor.group(1)), int(floor.group(2))) >= (1, 57)


def test_link_contract_keys_are_documented() -> None:
    from nkdata.slices import URL_KEYS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in URL_KEYS:
        assert f"| `{key}` |" in readme, key


def test_generated_tables_are_current() -> None:
    """README's link table and CURATION.md's field list are what the code generates (`python -m nkdata docs`)."""
    from nkdata.docs import GENERATED, render

    for name, (relative, builder) in GENERATED.items():
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert render(text, name, builder()) == text, f"{relative}: run `python -m nkdata docs`"


def test_readme_example_links_work_on_the_bundled_data() -> None:
    """Every example link of the README opens without a notice on the bundled dataset."""
    from urllib.parse import parse_qs

    from nkdata.paths import DEFAULT_TRIALS_PATH
    from nkdata.repository import TrialsRepository
    from nkdata.slices import parse_query_params

    repo = TrialsRepository(DEFAULT_TRIALS_PATH)
    vocab = repo.vocabulary()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"`(?:[a-z]+)?\?([^`\s]+)`", readme) + re.findall(
        r"<http://localhost:8501/[a-z]*\?([^>]+)>", readme
    )
    assert len(examples) > 15
    for query in examples:
        params = parse_qs(query, keep_blank_values=True)
        _, notices = parse_query_params(params, vocab, repo.has_cohort)
        assert notices == [], (query, notices)


def test_ruff_is_clean() -> None:
    """`ruff check .` and `ruff format --check .` pass, as configured in pyproject.toml."""
    import subprocess
    import sys

    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-2000:]
