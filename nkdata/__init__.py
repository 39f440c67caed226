"""The data layer: loading, validation, queries and statistics (no Streamlit, no side effects at import)."""
