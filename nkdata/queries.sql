-- Named queries over the `trials` view (DuckDB reads the Parquet file behind it per query).
-- Each block starts with `-- name: <name>`; lines after it up to the next block are its SQL.
-- Parameters are bound by name ($name); no user input is ever formatted into SQL.
-- Slice parameters: empty lists mean "no filter on this field".

-- name: setup_slice_macro
-- The one definition of the slice: a flag per sidebar filter, in sidebar order. `slice` keeps the rows
-- that pass every flag; `filter_funnel` counts what each filter leaves.
CREATE OR REPLACE MACRO slice_flags(year_min, year_max, sources, product_classes, products, car_targets,
                                    settings, populations, donors, pubtypes, include_mixed, include_superseded) AS TABLE
SELECT *,
    year BETWEEN year_min AND year_max                                              AS f01_years,
    (len(sources) = 0 OR list_contains(sources, nk_source))                         AS f02_source,
    (len(product_classes) = 0 OR list_contains(product_classes, product_class))     AS f03_product_class,
    (len(products) = 0 OR list_contains(products, product))                         AS f04_product,
    (len(car_targets) = 0 OR list_contains(car_targets, coalesce(car_target, 'none'))) AS f05_car_target,
    (len(settings) = 0 OR list_contains(settings, setting))                         AS f06_setting,
    (len(populations) = 0 OR list_contains(populations, population))                AS f07_population,
    (len(donors) = 0 OR list_contains(donors, donor_type))                          AS f08_donor,
    (len(pubtypes) = 0 OR list_contains(pubtypes, publication_type))                AS f09_pubtype,
    (include_mixed OR aml_only)                                                     AS f10_mixed,
    (include_superseded OR superseded_by IS NULL)                                   AS f11_superseded
FROM trials;

CREATE OR REPLACE MACRO slice(year_min, year_max, sources, product_classes, products, car_targets,
                              settings, populations, donors, pubtypes, include_mixed, include_superseded) AS TABLE
SELECT * EXCLUDE (f01_years, f02_source, f03_product_class, f04_product, f05_car_target, f06_setting,
                  f07_population, f08_donor, f09_pubtype, f10_mixed, f11_superseded)
FROM slice_flags(year_min, year_max, sources, product_classes, products, car_targets,
                 settings, populations, donors, pubtypes, include_mixed, include_superseded)
WHERE f01_years AND f02_source AND f03_product_class AND f04_product AND f05_car_target AND f06_setting
  AND f07_population AND f08_donor AND f09_pubtype AND f10_mixed AND f11_superseded;

-- The cohorts of the slice whose citation, product, country or notes contain every word of `words`
-- (lowercase; an empty list matches all).
CREATE OR REPLACE MACRO search_hits(year_min, year_max, sources, product_classes, products, car_targets,
                                    settings, populations, donors, pubtypes, include_mixed, include_superseded,
                                    words) AS TABLE
SELECT *
FROM slice(year_min, year_max, sources, product_classes, products, car_targets,
           settings, populations, donors, pubtypes, include_mixed, include_superseded)
WHERE len(words) = 0  -- no search: the text columns are not even read
   OR list_bool_and(list_transform(words, lambda w: contains(
          lower(concat_ws(' ', first_author, title, journal, product, country, cohort_id, extraction_note, car_target)),
          w)));

-- The value a cohort is grouped by: group_by is one of nk_source, product_class, product, setting.
CREATE OR REPLACE MACRO group_value(group_by, nk_source, product_class, product, setting) AS
CASE group_by WHEN 'nk_source' THEN nk_source WHEN 'product_class' THEN product_class
              WHEN 'product' THEN product WHEN 'setting' THEN setting END;

-- The primary cohorts of the slice (superseded reports never enter an analysis) with three chosen
-- columns under fixed names: grp (nk_source, product_class, product or setting), events (cr_count or
-- relapse_count) and total (n_treated, n_evaluable or relapse_at_risk).
CREATE OR REPLACE MACRO rate_inputs(year_min, year_max, sources, product_classes, products, car_targets,
                                    settings, populations, donors, pubtypes, include_mixed, include_superseded,
                                    group_by, events, totals) AS TABLE
SELECT
    group_value(group_by, nk_source, product_class, product, setting)                           AS grp,
    CASE events WHEN 'cr_count' THEN cr_count WHEN 'relapse_count' THEN relapse_count END           AS events,
    CASE totals WHEN 'n_treated' THEN n_treated WHEN 'n_evaluable' THEN n_evaluable
                WHEN 'relapse_at_risk' THEN relapse_at_risk END                                     AS total,
    *
FROM slice(year_min, year_max, sources, product_classes, products, car_targets,
           settings, populations, donors, pubtypes, include_mixed, include_superseded)
WHERE superseded_by IS NULL;

-- name: slice_cohorts
-- Every column of the cohorts in the slice, in reading order.
SELECT *
FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
           $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
           $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
ORDER BY year, first_author, cohort_id;

-- name: slice_cohorts_search
-- The Studies table: the columns it shows for the cohorts of the slice whose citation, product or notes
-- contain every word of $words (lowercase; an empty list matches all), at most $limit rows in reading order,
-- each carrying the match count. Only these columns are read: the whole record of a million cohorts is
-- not (the cohort card reads one record, the downloads read all only when asked).
WITH found AS NOT MATERIALIZED (
    SELECT cohort_id, study_id, superseded_by, first_author, year, product, nk_source, setting, publication_type,
           n_treated, n_evaluable, cr_count, doi, pmid, nct_ids, source_url
    FROM search_hits($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $words::VARCHAR[])
)
-- The count is a second pass, not count(*) OVER (): a window would hold every matching row in memory.
SELECT *, (SELECT count(*) FROM found) AS matches
FROM found
ORDER BY year, first_author, cohort_id
LIMIT $limit;

-- name: slice_cohorts_found
-- Every column of every cohort the Studies search finds, in reading order (the downloads).
SELECT *
FROM search_hits($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $words::VARCHAR[])
ORDER BY year, first_author, cohort_id;

-- name: cohort_record
-- One cohort's whole record, for its card.
SELECT * FROM trials WHERE cohort_id = $cohort_id;

-- name: rate_counts
-- Pooling input: the primary cohorts of the slice collapsed to their distinct (group, events, total), with
-- how many cohorts share each row. Pooling needs nothing else, so a million cohorts arrive as a few
-- thousand rows. Rows with a null events or total are the cohorts that did not report: counted, never pooled.
SELECT grp, events, total, count(*) AS cohorts
FROM rate_inputs($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $group_by, $events, $totals)
GROUP BY ALL
ORDER BY grp NULLS LAST, events NULLS LAST, total NULLS LAST;

-- name: persistence_rank_correlation
-- Spearman's rank correlation between longest persistence and the rate (events / total) over the primary
-- cohorts reporting both: Pearson's correlation of their average ranks (tied values share the mean of their
-- ranks, as scipy.stats.spearmanr). Ranked here, over distinct values, so no per-cohort row leaves DuckDB.
WITH pairs AS NOT MATERIALIZED (
    SELECT max_persistence_days::DOUBLE AS x, events::DOUBLE / total AS y
    FROM rate_inputs($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $group_by, $events, $totals)
    WHERE max_persistence_days IS NOT NULL AND events IS NOT NULL AND total > 0
),
x_ranks AS (
    SELECT x, sum(count(*)) OVER (ORDER BY x) - (count(*) - 1) / 2.0 AS rank FROM pairs GROUP BY x
),
y_ranks AS (
    SELECT y, sum(count(*)) OVER (ORDER BY y) - (count(*) - 1) / 2.0 AS rank FROM pairs GROUP BY y
)
SELECT count(*)                          AS n,
       (SELECT count(*) FROM x_ranks)    AS distinct_x,
       (SELECT count(*) FROM y_ranks)    AS distinct_y,
       corr(x_ranks.rank, y_ranks.rank)  AS rho
FROM pairs JOIN x_ranks USING (x) JOIN y_ranks USING (y);

-- name: cohort_points
-- Primary cohorts to draw one by one: those reporting the rate (if $need_rate), persistence (if
-- $need_persistence) and follow-up (if $need_followup), in groups $groups (empty: all). At most $limit
-- rows, the largest cohorts (by the rate's total, else patients treated), in reading order; every row
-- carries how many cohorts qualified, so a caption can say what the cap left out.
WITH qualified AS NOT MATERIALIZED (
    SELECT cohort_id, first_author, year, product, nk_source, setting, product_class, cytokine_support, n_treated,
           max_persistence_days, persistence_method, persistence_note, median_followup_months, grp, events, total
    FROM rate_inputs($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $group_by, $events, $totals)
    WHERE (NOT $need_rate OR (events IS NOT NULL AND total > 0))
      AND (NOT $need_persistence OR max_persistence_days IS NOT NULL)
      AND (NOT $need_followup OR median_followup_months IS NOT NULL)
      AND (len($groups::VARCHAR[]) = 0 OR list_contains($groups::VARCHAR[], grp))
),
largest AS (
    SELECT * FROM qualified
    ORDER BY CASE WHEN $need_rate THEN total ELSE n_treated END DESC NULLS LAST, year, first_author, cohort_id
    LIMIT $limit
)
SELECT *, (SELECT count(*) FROM qualified) AS qualified
FROM largest
ORDER BY year, first_author, cohort_id;

-- name: persistence_by_group
-- Longest persistence per group of primary cohorts: median, quartiles (linear interpolation, as pandas and
-- R's default) and range over the cohorts reporting it, and how many did not report it.
SELECT grp AS "group",
       count(max_persistence_days)                              AS cohorts_reported,
       count(*) - count(max_persistence_days)                   AS cohorts_not_reported,
       quantile_cont(max_persistence_days, 0.5)::DOUBLE         AS median,
       quantile_cont(max_persistence_days, 0.25)::DOUBLE        AS q1,
       quantile_cont(max_persistence_days, 0.75)::DOUBLE        AS q3,
       min(max_persistence_days)::DOUBLE                        AS min,
       max(max_persistence_days)::DOUBLE                        AS max
FROM rate_inputs($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                 $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                 $pubtypes::VARCHAR[], $include_mixed, $include_superseded, $group_by, $events, $totals)
GROUP BY grp
ORDER BY grp;

-- name: slice_summary
-- Headline counts of the slice. CR is pooled only over cohorts that report both CR and evaluable patients.
SELECT
    count(DISTINCT study_id)                                              AS publications,
    count(*)                                                              AS cohorts,
    coalesce(sum(n_treated), 0)::BIGINT                                           AS patients_treated,
    coalesce(sum(cr_count) FILTER (WHERE n_evaluable IS NOT NULL), 0)::BIGINT     AS cr_events,
    coalesce(sum(n_evaluable) FILTER (WHERE cr_count IS NOT NULL), 0)::BIGINT     AS cr_evaluable,
    count(*) FILTER (WHERE cr_count IS NOT NULL AND n_evaluable IS NOT NULL) AS cohorts_cr_reported,
    count(*) FILTER (WHERE cr_count IS NULL OR n_evaluable IS NULL)       AS cohorts_cr_not_reported,
    min(year)                                                             AS year_first,
    max(year)                                                             AS year_last
FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
           $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
           $pubtypes::VARCHAR[], $include_mixed, $include_superseded);

-- name: cohorts_per_year_by_source
-- Cohorts and patients per publication year and NK source.
SELECT year, nk_source, count(*) AS cohorts, coalesce(sum(n_treated), 0)::BIGINT AS patients
FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
           $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
           $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
GROUP BY year, nk_source
ORDER BY year, nk_source;

-- name: source_by_setting
-- The source x setting matrix: cohorts and patients in each cell.
SELECT nk_source, setting, count(*) AS cohorts, coalesce(sum(n_treated), 0)::BIGINT AS patients
FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
           $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
           $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
GROUP BY nk_source, setting
ORDER BY nk_source, setting;

-- name: group_summary
-- Per group ($group_by is one of nk_source, product_class, product, setting): patients, CR over
-- treated and over evaluable, and how many cohorts did not report CR.
WITH s AS (
    SELECT group_value($group_by, nk_source, product_class, product, setting) AS grp, *
    FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
               $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
               $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
)
SELECT
    grp                                                                   AS "group",
    count(*)                                                              AS cohorts,
    coalesce(sum(n_treated), 0)::BIGINT                                           AS patients_treated,
    count(*) FILTER (WHERE cr_count IS NOT NULL)                          AS cohorts_cr_reported,
    count(*) FILTER (WHERE cr_count IS NULL)                              AS cohorts_cr_not_reported,
    coalesce(sum(cr_count), 0)::BIGINT                                            AS cr_events,
    coalesce(sum(n_treated) FILTER (WHERE cr_count IS NOT NULL), 0)::BIGINT       AS cr_treated_denominator,
    coalesce(sum(n_evaluable) FILTER (WHERE cr_count IS NOT NULL), 0)::BIGINT     AS cr_evaluable_denominator
FROM s
GROUP BY grp
ORDER BY patients_treated DESC, grp;

-- name: safety_by_source
-- For each NK source and safety outcome: patients with the event, patients in cohorts that reported it,
-- and cohorts/patients where it was not reported (null), kept apart from reported zeros.
WITH s AS (
    SELECT * FROM slice($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                        $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                        $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
),
long AS (
    SELECT nk_source, n_treated, UNNEST([
        {'outcome': 'crs_any', 'events': crs_any},
        {'outcome': 'crs_grade3plus', 'events': crs_grade3plus},
        {'outcome': 'icans_any', 'events': icans_any},
        {'outcome': 'gvhd_any', 'events': gvhd_any},
        {'outcome': 'gvhd_grade3plus', 'events': gvhd_grade3plus},
        {'outcome': 'treatment_related_deaths', 'events': treatment_related_deaths}
    ], recursive := true)
    FROM s
)
SELECT
    nk_source,
    outcome,
    coalesce(sum(events), 0)::BIGINT                                       AS events,
    coalesce(sum(n_treated) FILTER (WHERE events IS NOT NULL), 0)::BIGINT  AS patients_reported,
    count(*) FILTER (WHERE events IS NOT NULL)                     AS cohorts_reported,
    count(*) FILTER (WHERE events = 0)                             AS cohorts_reported_zero,
    count(*) FILTER (WHERE events IS NULL)                         AS cohorts_not_reported,
    coalesce(sum(n_treated) FILTER (WHERE events IS NULL), 0)::BIGINT      AS patients_not_reported
FROM long
GROUP BY nk_source, outcome
ORDER BY nk_source, outcome;

-- name: filter_funnel
-- Cohorts and patients left after each sidebar filter, applied in sidebar order, in one pass.
WITH flags AS (
    SELECT n_treated,
        f01_years AS p1,
        p1 AND f02_source AS p2,
        p2 AND f03_product_class AS p3,
        p3 AND f04_product AS p4,
        p4 AND f05_car_target AS p5,
        p5 AND f06_setting AS p6,
        p6 AND f07_population AS p7,
        p7 AND f08_donor AS p8,
        p8 AND f09_pubtype AS p9,
        p9 AND f10_mixed AS p10,
        p10 AND f11_superseded AS p11
    FROM slice_flags($year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[], $products::VARCHAR[],
                     $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[], $donors::VARCHAR[],
                     $pubtypes::VARCHAR[], $include_mixed, $include_superseded)
)
SELECT step, count(*) FILTER (WHERE pass) AS cohorts, coalesce(sum(n_treated) FILTER (WHERE pass), 0)::BIGINT AS patients
FROM (
    SELECT n_treated, UNNEST([
        {'step': 1, 'pass': p1}, {'step': 2, 'pass': p2}, {'step': 3, 'pass': p3}, {'step': 4, 'pass': p4},
        {'step': 5, 'pass': p5}, {'step': 6, 'pass': p6}, {'step': 7, 'pass': p7}, {'step': 8, 'pass': p8},
        {'step': 9, 'pass': p9}, {'step': 10, 'pass': p10}, {'step': 11, 'pass': p11}
    ], recursive := true)
    FROM flags
) AS steps
GROUP BY step
ORDER BY step;

-- name: filter_options
-- Distinct values present in the dataset for each filterable field, with cohort counts.
SELECT 'nk_source' AS field, nk_source AS code, NULL AS parent, count(*) AS cohorts FROM trials GROUP BY nk_source
UNION ALL SELECT 'product_class', product_class, NULL, count(*) FROM trials GROUP BY product_class
UNION ALL SELECT 'product', product, nk_source, count(*) FROM trials GROUP BY product, nk_source
UNION ALL SELECT 'car_target', coalesce(car_target, 'none'), NULL, count(*) FROM trials GROUP BY coalesce(car_target, 'none')
UNION ALL SELECT 'setting', setting, NULL, count(*) FROM trials GROUP BY setting
UNION ALL SELECT 'population', population, NULL, count(*) FROM trials WHERE population IS NOT NULL GROUP BY population
UNION ALL SELECT 'donor_type', donor_type, NULL, count(*) FROM trials WHERE donor_type IS NOT NULL GROUP BY donor_type
UNION ALL SELECT 'publication_type', publication_type, NULL, count(*) FROM trials GROUP BY publication_type
ORDER BY field, code, parent;

-- name: dataset_overview
-- Size and span of the whole dataset, for the About page and the year slider.
SELECT count(DISTINCT study_id) AS publications, count(*) AS cohorts,
       coalesce(sum(n_treated), 0)::BIGINT AS patients_treated,
       count(*) FILTER (WHERE superseded_by IS NULL) AS primary_cohorts,
       min(year) AS year_min, max(year) AS year_max
FROM trials;

-- name: invalid_codes
-- Rows whose coded fields fall outside the dictionary's codes (checked when a dataset is opened), in one
-- pass over the file: a scan per field held several copies of the columns in memory at 10^6 rows.
WITH checks AS (
    SELECT cohort_id, [
        {'field': 'nk_source', 'value': nk_source,
         'bad': nk_source IS NULL OR NOT list_contains($nk_source_codes::VARCHAR[], nk_source)},
        {'field': 'product_class', 'value': product_class,
         'bad': product_class IS NULL OR NOT list_contains($product_class_codes::VARCHAR[], product_class)},
        {'field': 'setting', 'value': setting,
         'bad': setting IS NULL OR NOT list_contains($setting_codes::VARCHAR[], setting)},
        {'field': 'publication_type', 'value': publication_type,
         'bad': publication_type IS NULL OR NOT list_contains($publication_type_codes::VARCHAR[], publication_type)},
        {'field': 'population', 'value': population,
         'bad': population IS NOT NULL AND NOT list_contains($population_codes::VARCHAR[], population)},
        {'field': 'donor_type', 'value': donor_type,
         'bad': donor_type IS NOT NULL AND NOT list_contains($donor_type_codes::VARCHAR[], donor_type)},
        {'field': 'year', 'value': CAST(year AS VARCHAR), 'bad': year IS NULL},
        {'field': 'n_treated', 'value': CAST(n_treated AS VARCHAR), 'bad': n_treated IS NULL OR n_treated < 0},
        {'field': 'aml_only', 'value': CAST(aml_only AS VARCHAR), 'bad': aml_only IS NULL}
    ] AS fields
    FROM trials
),
failed AS (
    SELECT cohort_id, UNNEST(list_filter(fields, lambda f: f.bad)) AS f FROM checks
)
SELECT cohort_id, f.field AS field, f.value AS value
FROM failed
ORDER BY cohort_id, field
LIMIT 50;

-- ===== Registered trials =====
-- Queries over the `registry` view of data/registry.parquet (nkdata/registry.py, RegistryRepository).
-- Slice parameters: use_years with year_min/year_max (a trial without a start year is kept only
-- when no year range is set), and lists of codes where an empty list means "no filter".
-- (No dollar signs in comments here: the loader reads every dollar-name of a block as a parameter.)

-- name: registry_setup_macro
CREATE OR REPLACE MACRO registry_slice(use_years, year_min, year_max, sources, product_classes, car_targets,
                                       settings, populations) AS TABLE
SELECT *
FROM registry
WHERE (NOT use_years OR start_year BETWEEN year_min AND year_max)
  AND (len(sources) = 0 OR list_contains(sources, nk_source))
  AND (len(product_classes) = 0 OR list_contains(product_classes, product_class))
  AND (len(car_targets) = 0 OR list_contains(car_targets, coalesce(car_target, 'none')))
  AND (len(settings) = 0 OR list_contains(settings, setting))
  AND (len(populations) = 0 OR list_contains(populations, population));

-- name: registry_invalid_codes
-- Rows whose coded fields fall outside the registry's codes (checked when the file is opened).
WITH checks AS (
    SELECT registry_id, [
        {'field': 'status', 'value': status,
         'bad': status IS NULL OR NOT list_contains($status_codes::VARCHAR[], status)},
        {'field': 'phase', 'value': phase,
         'bad': phase IS NOT NULL AND NOT list_contains($phase_codes::VARCHAR[], phase)},
        {'field': 'nk_source', 'value': nk_source,
         'bad': nk_source IS NOT NULL AND NOT list_contains($nk_source_codes::VARCHAR[], nk_source)},
        {'field': 'product_class', 'value': product_class,
         'bad': product_class IS NOT NULL AND NOT list_contains($product_class_codes::VARCHAR[], product_class)},
        {'field': 'setting', 'value': setting,
         'bad': setting IS NULL OR NOT list_contains($setting_codes::VARCHAR[], setting)},
        {'field': 'population', 'value': population,
         'bad': population IS NOT NULL AND NOT list_contains($population_codes::VARCHAR[], population)},
        {'field': 'sponsor_type', 'value': sponsor_type,
         'bad': sponsor_type IS NOT NULL AND NOT list_contains($sponsor_type_codes::VARCHAR[], sponsor_type)},
        {'field': 'registry_id', 'value': registry_id, 'bad': registry_id IS NULL}
    ] AS fields
    FROM registry
),
failed AS (SELECT registry_id, UNNEST(list_filter(fields, lambda f: f.bad)) AS f FROM checks)
SELECT registry_id, f.field AS field, f.value AS value
FROM failed
ORDER BY registry_id, field
LIMIT 50;

-- name: registry_summary
-- Headline numbers of the slice; `total` counts the whole file so the page can say what a filter hides.
SELECT
    count(*)                                                          AS trials,
    count(*) FILTER (WHERE len(cohort_ids) > 0)                       AS with_results,
    count(*) FILTER (WHERE status IN ('recruiting', 'enrolling_by_invitation')) AS recruiting,
    min(status_as_of)                                                 AS as_of_min,
    max(status_as_of)                                                 AS as_of_max,
    (SELECT count(*) FROM registry WHERE start_year IS NULL)          AS no_start_year,
    (SELECT count(*) FROM registry)                                   AS total
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[]);

-- name: registry_source_phase
-- Trials per NK source (null = not reported) and phase (null = not reported).
SELECT nk_source, phase, count(*) AS trials
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
GROUP BY ALL
ORDER BY nk_source NULLS LAST, phase NULLS LAST;

-- name: registry_car_by_year
-- CAR-engineered trials per CAR target and start year (trials without a start year are counted as null).
SELECT car_target, start_year, count(*) AS trials
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
WHERE car_target IS NOT NULL
GROUP BY ALL
ORDER BY car_target, start_year NULLS LAST;

-- name: registry_status
-- Trials per status, with the range of dates on which those statuses were read.
SELECT status, count(*) AS trials, min(status_as_of) AS as_of_min, max(status_as_of) AS as_of_max
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
GROUP BY ALL
ORDER BY trials DESC, status;

-- name: registry_sponsor_types
SELECT sponsor_type, count(*) AS trials
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
GROUP BY ALL
ORDER BY trials DESC, sponsor_type NULLS LAST;

-- name: registry_countries
-- Trials per country named on the page read (a multinational trial counts once in each of its countries;
-- trials whose pages named no country are counted under null).
SELECT country, count(*) AS trials
FROM (
    SELECT CASE WHEN len(countries) = 0 THEN [NULL::VARCHAR] ELSE countries END AS country_list
    FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                        $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
), UNNEST(country_list) AS u(country)
GROUP BY ALL
ORDER BY trials DESC, country NULLS LAST;

-- name: registry_table
-- One row per trial of the slice for the table and the CSV download, newest start first.
SELECT
    registry_id, registry, title,
    CASE registry WHEN 'clinicaltrials_gov' THEN 'https://clinicaltrials.gov/study/' || registry_id
                  ELSE status_source_url END                          AS registry_url,
    phase, status, status_as_of, status_source_url,
    len(other_statuses)                                               AS other_status_count,
    array_to_string(list_transform(other_statuses,
        lambda s: s.status || ' (' || s.as_of || ')'), '; ')          AS other_statuses_text,
    sponsor, sponsor_type, countries, start_year, enrollment, enrollment_type,
    nk_source, product, product_class, car_target, donor_type, setting, population, aml_only,
    conditions, cohort_ids, source_url, source_section
FROM registry_slice($use_years, $year_min, $year_max, $sources::VARCHAR[], $product_classes::VARCHAR[],
                    $car_targets::VARCHAR[], $settings::VARCHAR[], $populations::VARCHAR[])
ORDER BY start_year DESC NULLS LAST, registry_id;
