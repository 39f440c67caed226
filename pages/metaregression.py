"""Meta-regression: does the CR rate move with dose, year, NK source, product class, lymphodepletion or cytokines?"""

from __future__ import annotations

import streamlit as st

from nkapp.cache import cached, show_chart
from nkapp.components import analysis_controls, disclosure, empty_state, open_cohort_from, view_downloads
from nkapp.context import dataset_facts
from nkdata import analysis, charts, metareg
from nkdata import vocabulary as voc
from nkdata.repository import TrialsRepository
from nkdata.slices import DENOMINATORS, View


def render(repo: TrialsRepository, view: View) -> None:
    st.title("Meta-regression of complete remission")
    vocab, _, _ = dataset_facts(repo)
    with st.container(border=True):
        choices = analysis_controls(show=("mods", "mr_setting", "denom"))
        choices = analysis_controls(show=("exclude",))
    result = cached(repo, analysis.metaregression_view, view.slice, choices)
    setting = voc.label(voc.SETTINGS, result.setting)
    fit = result.fit
    if result.cohorts_in_setting == 0:
        empty_state(f"cohorts reporting CR in the {setting.lower()} setting")
        return
    entering = int(fit.cohorts["complete"].sum()) if len(fit.cohorts) else 0
    lacking = "; ".join(
        f"{metareg.MODERATORS[c][0]}: {n} of {len(fit.cohorts)} not reported" for c, n in fit.missing.items()
    )
    st.markdown(
        f"**Cohorts entering: {entering} of {result.cohorts_in_setting}** {setting.lower()} cohorts reporting CR "
        f"over {DENOMINATORS[choices.denom].lower()} (the setting is fixed: across settings a moderator would "
        f"stand in for who was treated). " + (f"Lacking a moderator: {lacking}." if lacking else "")
    )
    if result.truncated:
        st.caption(f"Only the {len(fit.cohorts)} largest cohorts enter (more cannot be drawn or read).")
    if fit.result is None:
        st.info(fit.problem or "No fit.", icon=":material/info:")
        return
    r = fit.result
    if fit.problem:
        st.caption(fit.problem)
    first = result.moderators[0]
    kind = metareg.MODERATORS[first][1]
    event = show_chart(
        charts.metaregression_bubbles,
        result.chart_rows,
        key="metareg_bubbles",
        x_title=metareg.MODERATORS[first][0].replace(" (log10)", " (log scale)"),
        categorical=kind == "category",
        log_x=kind == "log10",
        x_format={"year": "d", "dose": ".0e"}.get(first, ""),
    )
    open_cohort_from(event)
    st.caption(
        "Each bubble is a cohort (area by its weight in the model, 1/(v + tau²)); the line or ticks are the fitted CR"
        + (
            " along the first moderator, the others held at their mean or reference level. "
            if len(r.names) > 2
            else ". "
        )
        + "Click a bubble to see where its numbers came from."
    )
    f_text = (
        f"test of moderators F({r.f_df1}, {r.f_df2}) = {r.f:.2f}, p = {r.f_p:.3g}" if r.f_df1 else "no moderator tested"
    )
    r2 = "not defined (no heterogeneity without moderators)" if r.r2 != r.r2 else f"{100 * r.r2:.0f}%"
    st.markdown(
        f"**{f_text}**; R² (share of tau² explained) {r2}; residual tau² = {r.tau2:.3f} (without moderators "
        f"{r.tau2_null:.3f}); k = {r.k}, residual heterogeneity QE = {r.qe:.2f} (p = {r.qe_p:.3g})."
    )
    st.dataframe(
        analysis.metaregression_table(result),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in ("Coefficient (logit)", "SE", "95% CI low", "95% CI high", "p")
        },
    )
    st.caption(
        "Mixed-effects meta-regression of logit CR (0.5 added to 0/n and n/n cohorts), tau² by REML, Knapp-Hartung "
        "standard errors and tests on t and F with k - p degrees of freedom, as metafor's rma(yi, vi, mods = ..., "
        "test = 'knha'). A coefficient is a change in log odds of CR per unit of the moderator (per tenfold dose). "
        "With this few small single-arm cohorts an association is observational across studies, confounded by "
        "everything else that differs between them (co-interventions such as a transplant, who was treated), "
        "and fragile: read it as a question for a trial, not an answer."
    )
    if box := disclosure("Downloads", key="open_downloads", icon=":material/download:"):
        with box:
            view_downloads(repo, result.fit.cohorts, "metaregression", vocab.year_bounds, key="metareg_rows")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this file alone (a deep link on a fresh server)
    from dashboard import main

    main()
