"""Meta-regression against metafor 3.8: ``Rscript tests/fixtures/stats/metareg.R`` fitted
``rma(yi, vi, mods = <formula>, data = escalc(measure="PLO", xi, ni), method="REML", test="knha")`` and, for R²,
``rma(yi, vi)`` on the same cohorts; values in tests/fixtures/stats/metareg.json (R is not needed here).
``rr``: the bundled relapsed/refractory CR cohorts of 2026-12-03 with year, NK source ("pb"/"ipsc"), product
class and dose (3 of 14 report it), frozen in the fixture; ``bcg``: metafor's dat.bcg log risk ratios on
absolute latitude and year, the textbook example."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from nkdata import metareg
from nkdata.paths import REPO_ROOT
from nkdata.stats import logit_and_variance

REF = json.loads((REPO_ROOT / "tests" / "fixtures" / "stats" / "metareg.json").read_text())
TOL = 1e-4


def _check(result: metareg.MetaRegression, ref: dict) -> None:
    assert result.k == ref["k"]
    assert result.tau2 == pytest.approx(ref["tau2"], abs=TOL)
    assert result.beta == pytest.approx(np.array(ref["beta"]), abs=TOL, rel=1e-4)
    assert result.se == pytest.approx(np.array(ref["se"]), abs=TOL, rel=1e-4)
    assert result.pval == pytest.approx(np.array(ref["pval"]), abs=TOL)
    assert result.f == pytest.approx(ref["QM"], abs=TOL) and [result.f_df1, result.f_df2] == ref["QMdf"]
    assert result.f_p == pytest.approx(ref["QMp"], abs=TOL)
    assert result.tau2_null == pytest.approx(ref["tau2_null"], abs=TOL)
    assert 100 * result.r2 == pytest.approx(ref["R2"], abs=1e-2)


def test_dat_bcg_latitude_and_year() -> None:
    d = pd.DataFrame(REF["bcg"]["data"])
    x = np.column_stack([np.ones(len(d)), d["ablat"], d["year"]])
    _check(metareg.fit(d["yi"], d["vi"], x, ["intercept", "ablat", "year"]), REF["bcg"]["ablat_year"])


def _rr() -> pd.DataFrame:
    d = pd.DataFrame(REF["rr"]["data"])
    return pd.DataFrame(
        {
            "events": d["xi"],
            "total": d["ni"],
            "year": d["year"],
            "nk_source": d["src"],
            "product_class": d["cls"],
            "dose_max_per_kg": d["dose"],
            "lymphodepletion": None,
            "cytokine_support": None,
        }
    )


@pytest.mark.parametrize(
    ("moderators", "key"),
    [(("year",), "year"), (("year", "product_class"), "year_cls"), (("nk_source",), "src"), (("dose",), "dose")],
)
def test_rr_cr_moderators_equal_rma_knha(moderators: tuple[str, ...], key: str) -> None:
    fitted = metareg.fit_moderators(_rr(), moderators)
    assert fitted.result is not None, fitted.problem
    _check(fitted.result, REF["rr"][key])
    assert fitted.missing == {m: (11 if m == "dose" else 0) for m in moderators}


def test_design_matrix_uses_first_level_as_reference() -> None:
    values = pd.DataFrame({"nk_source": ["pb", "ipsc", "pb"], "year": [2010, 2012, 2014]})
    x, names = metareg.design_matrix(values, ["nk_source", "year"])
    assert names == ["intercept", "nk_source=pb", "year"]
    assert x[:, 1].tolist() == [1.0, 0.0, 1.0]


def test_moderator_coding_keeps_not_reported_missing() -> None:
    frame = pd.DataFrame(
        {
            "lymphodepletion": ["Flu/Cy", "FLAG chemotherapy", "two cycles of salvage chemotherapy", None],
            "cytokine_support": ["IL-2", "none", None, "N-803"],
            "dose_max_per_kg": [1e7, 0, None, 3e6],
        }
    )
    assert metareg.moderator_values(frame, "lymphodepletion").tolist() == [
        "fludarabine-based",
        "fludarabine-based",
        "other",
        None,
    ]
    assert metareg.moderator_values(frame, "cytokine").tolist() == ["any", "none", None, "any"]
    dose = metareg.moderator_values(frame, "dose")
    assert dose.iloc[0] == 1e7 and dose.iloc[1:3].isna().all()


def test_too_few_cohorts_or_no_variation_is_said_not_fitted() -> None:
    rr = _rr()
    assert "need more cohorts" in metareg.fit_moderators(rr.iloc[:2], ("year",)).problem
    constant = metareg.fit_moderators(rr.assign(nk_source="pb"), ("nk_source",))
    assert constant.result is None and "does not vary" in constant.problem
    assert metareg.fit_moderators(rr, ()).result is None


def test_no_moderator_effect_gives_r2_zero_not_negative() -> None:
    y, v = logit_and_variance([3, 5, 4, 6, 2, 9], [10, 12, 11, 14, 9, 15])
    x = np.column_stack([np.ones(6), [1, 2, 3, 4, 5, 6]])
    result = metareg.fit(y, v, x, ["intercept", "x"])
    assert result.r2 == 0 or math.isnan(result.r2) or 0 <= result.r2 <= 1
