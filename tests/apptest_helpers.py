"""Running the dashboard headlessly with AppTest on a chosen dataset and link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from nkdata.safe_text import md_plain

ENTRY = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def run_app(query: dict[str, str | list[str]] | None = None, page: str | None = None) -> AppTest:
    """The app after its first run of a link: its query parameters, opened directly on ``page``."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_rows(at: AppTest) -> list[list[dict[str, Any]]]:
    """The data rows of every Vega-Lite chart on the page, in page order."""
    out = []
    for chart in at.get("vega_lite_chart"):
        rows: list[dict[str, Any]] = []
        for values in json.loads(chart.proto.spec).get("datasets", {}).values():  # inline data, if any
            rows.extend(values)
        for dataset in chart.proto.datasets:  # Streamlit ships chart data as Arrow IPC
            rows.extend(pa.ipc.open_stream(dataset.data.data).read_all().to_pylist())
        out.append(rows)
    return out


def texts(at: AppTest) -> str:
    """All markdown, caption, info and warning text on the page, joined, as a reader sees it (escapes of data
    text removed; ``raw_texts`` keeps them)."""
    return md_plain(raw_texts(at))


def raw_texts(at: AppTest) -> str:
    """All markdown, caption, info and warning text on the page as sent to the browser (Markdown source)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    return "\n".join(parts)
