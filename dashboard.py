"""Entry point: page set-up, the dataset, the shared sidebar filters, navigation, and the URL.

Run with `streamlit run dashboard.py`. Everything shared by the pages happens
here, before `pg.run()`; the URL is rewritten after the page has run, so page
controls (pooling, intervals, denominator) are part of the link as well.
"""

from __future__ import annotations

import streamlit as st

from nkapp import context, filters, state
from nkdata.issues import DatasetError

st.set_page_config(page_title="NK-AML Evidence Dashboard", page_icon=":material/biotech:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/outcomes.py", title="Outcomes", icon=":material/monitoring:", url_path="outcomes"),
    st.Page("pages/persistence.py", title="Persistence", icon=":material/timeline:", url_path="persistence"),
    st.Page("pages/relapse.py", title="Relapse", icon=":material/replay:", url_path="relapse"),
    st.Page("pages/safety.py", title="Safety", icon=":material/health_and_safety:", url_path="safety"),
    st.Page("pages/studies.py", title="Studies", icon=":material/table:", url_path="studies"),
    st.Page("pages/about.py", title="About & methods", icon=":material/info:", url_path="about"),
]


def main() -> None:
    navigation = st.navigation(PAGES)
    try:
        repo = context.open_repository()
        vocab, products_by_source, _ = context.dataset_facts(repo)
    except DatasetError as error:
        st.title("NK-AML Evidence Dashboard")
        context.show_dataset_error(error)
        return
    filters.sidebar_filters(repo, vocab, products_by_source)
    notices = state.pop_notices()
    if notices:
        st.warning("**Some parts of the link could not be used and were ignored:**\n\n"
                   + "\n".join(f"- {n}" for n in notices), icon=":material/link_off:")
    context.set_page_context(context.PageContext(repo, state.current_view()))
    navigation.run()
    state.sync_url(vocab.year_bounds)
    with st.sidebar:
        st.markdown("### Share this view")
        st.code(state.share_link(vocab.year_bounds), language=None, wrap_lines=True)
        st.caption("The link reproduces this page with its filters and analysis choices.")


main()
