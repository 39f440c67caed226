"""The shareable-link contract: parse what can be used, say what was ignored, write back canonically."""

from __future__ import annotations

from nkdata.slices import Analysis, Slice, View, Vocabulary, narrow_products, parse_query_params, to_query_params

VOCAB = Vocabulary(
    data_codes={"products": frozenset({"CIML NK", "UCB NK"}), "car_targets": frozenset({"CD33"})},
    year_bounds=(2005, 2025),
)


def test_contract_example() -> None:
    view, notices = parse_query_params(
        {"years": ["2015", "2020"], "source": ["cell_line", "ipsc"], "mixed": ["0"], "pool": ["DL"]}, VOCAB
    )
    assert notices == []
    assert view.slice == Slice(years=(2015, 2020), sources=("cell_line", "ipsc"), include_mixed=False)
    assert view.analysis == Analysis(pool="DL")


def test_round_trip() -> None:
    view = View(
        Slice(
            years=(2010, 2020),
            sources=("placenta",),
            products=("UCB NK",),
            car_targets=("none",),
            settings=("pre_hsct",),
            populations=("adult",),
            donors=("unrelated",),
            pubtypes=("journal_article",),
            include_superseded=True,
        ),
        Analysis(pool="DL", ci="wilson", denom="evaluable", group="setting"),
    )
    params = to_query_params(view, VOCAB.year_bounds)
    assert parse_query_params(params, VOCAB) == (view, [])


def test_defaults_write_nothing() -> None:
    assert to_query_params(View(Slice(years=(2005, 2025))), (2005, 2025)) == {}


def test_garbage_is_ignored_with_notices() -> None:
    view, notices = parse_query_params(
        {
            "source": ["cell_line", "bone'; DROP TABLE trials;--"],
            "years": ["abc", "2020"],
            "color": ["red"],
            "mixed": ["maybe"],
            "pool": ["bayes"],
            "product": ["x" * 500],
        },
        VOCAB,
    )
    assert view.slice == Slice(sources=("cell_line",))
    assert view.analysis == Analysis()
    assert len(notices) == 6  # one per parameter: unknown keys, source, years, mixed, pool, product
    assert any("color" in n for n in notices) and any("DROP" in n for n in notices)
    assert all(len(n) < 200 for n in notices)


def test_years_reversed_and_out_of_range() -> None:
    view, notices = parse_query_params({"years": ["2020", "2010"]}, VOCAB)
    assert view.slice.years == (2010, 2020) and "reversed" in notices[0]
    view, notices = parse_query_params({"years": ["1990", "2100"]}, VOCAB)
    assert view.slice.years == (2005, 2025) and "narrowed" in notices[0]
    view, notices = parse_query_params({"years": ["2030", "2040"]}, VOCAB)
    assert view.slice.years is None and notices
    view, notices = parse_query_params({"years": ["2010"]}, VOCAB)
    assert view.slice.years is None and notices


def test_repeated_keys_beyond_reason() -> None:
    view, notices = parse_query_params({"source": ["cell_line"] * 1000}, VOCAB)
    assert view.slice.sources == ("cell_line",) and len(notices) == 1


def test_products_narrow_to_sources() -> None:
    s = Slice(sources=("umbilical_cord_blood",), products=("CIML NK", "UCB NK"))
    assert narrow_products(s, {"peripheral_blood": ["CIML NK"], "umbilical_cord_blood": ["UCB NK"]}).products == (
        "UCB NK",
    )


def test_a_thousand_unknown_keys_give_one_short_notice() -> None:
    view, notices = parse_query_params({f"k{i}": ["1"] for i in range(1000)}, VOCAB)
    assert view == View()
    assert len(notices) == 1 and "1000 unknown" in notices[0] and len(notices[0]) < 200


def test_over_long_single_value_gives_one_notice() -> None:
    view, notices = parse_query_params({"ci": ["w" * 121]}, VOCAB)
    assert view.analysis.ci == Analysis().ci
    assert len(notices) == 1 and "over-long" in notices[0]


def test_cohort_and_search_round_trip() -> None:
    exists = {"alpha2010-rr"}.__contains__
    view = View(Slice(), Analysis(), cohort="alpha2010-rr", query="cord blood")
    params = to_query_params(view, VOCAB.year_bounds)
    assert params == {"cohort": ["alpha2010-rr"], "q": ["cord blood"]}
    assert parse_query_params(params, VOCAB, exists) == (view, [])
    view, notices = parse_query_params({"cohort": ["nope-1"]}, VOCAB, exists)
    assert view.cohort is None and "nope-1" in notices[0]


def test_analysis_choices_round_trip() -> None:
    view = View(
        Slice(),
        Analysis(
            model="fixed", overall=True, exclude=("review", "grey"), rows="nk_source", endpoint="lfs", landmark="36"
        ),
    )
    params = to_query_params(view, VOCAB.year_bounds)
    assert params["exclude"] == ["review", "grey"] and params["overall"] == ["1"]
    assert parse_query_params(params, VOCAB) == (view, [])


def test_every_filter_of_the_spec_table_is_in_the_link() -> None:
    """Adding a row to FILTERS is enough for the link: parse and write handle it without other edits."""
    from nkdata.filterspec import FILTERS

    for spec in FILTERS:
        code = next(iter(VOCAB.allowed(spec.field)))
        view, notices = parse_query_params({spec.key: [code]}, VOCAB)
        assert notices == [] and getattr(view.slice, spec.field) == (code,), spec.key
        assert to_query_params(view, VOCAB.year_bounds) == {spec.key: [code]}
