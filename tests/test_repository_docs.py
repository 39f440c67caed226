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
    start = next(c for c in _readme_commands() if "streamlit run" in c)
    assert "pip install -q -r requirements.txt" in start and start.endswith("streamlit run dashboard.py")


def test_streamlit_floor_supports_pandas_3() -> None:
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    floor = re.search(r"^streamlit>=(\d+)\.(\d+)", requirements, re.MULTILINE)
    assert floor and (int(floor.group(1)), int(floor.group(2))) >= (1, 57)


def test_link_contract_keys_are_documented() -> None:
    from nkdata.slices import URL_KEYS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in URL_KEYS:
        assert f"| `{key}` |" in readme, key
