-- Named queries over the `trials` view (DuckDB reads the Parquet file behind it per query).
-- Each block starts with `-- name: <name>`; lines after it up to the next block are its SQL.
-- Parameters are bound by name ($name); no user input is ever formatted into SQL.
-- Slice parameters: empty lists mean "no filter on this field".

-- name: setup_slice_macro
-- The one definition of the slice, over one STRUCT parameter `s` (bound as $slice; see Slice.sql_params).
-- Its conditions are generated from the filter table nkdata/filterspec.py (constants of the code, never user
-- input): `slice` keeps rows meeting all of them; `slice_flags` gives them as a list, one per funnel step.
CREATE OR REPLACE MACRO slice(s) AS TABLE
SELECT * FROM trials WHERE {slice_where};

CREATE OR REPLACE MACRO slice_flags(s) AS TABLE
SELECT n_treated, {slice_flags} AS passes FROM trials;

-- The cohorts of the slice whose citation, product, country or notes contain every word of `words`
-- (lowercase; an empty list matches all).
CREATE OR REPLACE MACRO search_hits(s, words) AS TABLE
SELECT *
FROM slice(s)
WHERE len(words) = 0  -- no search: the text columns are not even read
   OR list_bool_and(list_transform(words, lambda w: contains(
          lower(concat_ws(' ', first_author, title, journal, product, country, cohort_id, extraction_note, car_target)),
          w)));

-- Time-to-event entries of the slice's primary cohorts (superseded reports never enter an analysis), one row per
-- entry, with the cohort's labels and follow-up. `inherited` marks an entry carried over from an earlier report of
-- the same patients (field-level supersession).
CREATE OR REPLACE MACRO survival_rows(s) AS TABLE
WITH e AS (
    SELECT cohort_id, first_author, year, product, nk_source, setting, product_class, n_treated,
           median_followup_months, publication_type, UNNEST(survival, recursive := true)
    FROM slice(s)
    WHERE superseded_by IS NULL
)
SELECT *, source_cohort <> cohort_id AS inherited
FROM e;

-- The value a cohort is grouped by: group_by is one of nk_source, product_class, product, setting, car_target
-- (a product without a CAR under 'none').
CREATE OR REPLACE MACRO group_value(group_by, nk_source, product_class, product, setting, car_target) AS
CASE group_by WHEN 'nk_source' THEN nk_source WHEN 'product_class' THEN product_class
              WHEN 'product' THEN product WHEN 'setting' THEN setting
              WHEN 'car_target' THEN coalesce(car_target, 'none') END;

-- The primary cohorts of the slice with three chosen
-- columns under fixed names: grp (nk_source, product_class, product or setting), events (a count of patients
-- with the event) and total (its denominator), and `excluded`: true when a sensitivity choice in `exclude`
-- leaves the cohort's rate out ('review': a count only a review gave; 'converted': a count converted from a
-- percentage; 'grey': a conference abstract or company report; 'rob': a publication not appraised at low risk
-- of bias; 'cohort:<id>': that cohort, left out by name). The CASE lists are generated from the data dictionary's
-- count fields.
-- Superseded reports never enter an analysis, except for the outcomes they are their trial's most complete
-- report of (outcome_report_for: the newest report lacks the outcome and treated a different n); the primary
-- row then stands aside for that outcome (outcomes_elsewhere), so each patient is counted once.
CREATE OR REPLACE MACRO rate_inputs(s, group_by, events, totals, exclude) AS TABLE
SELECT
    group_value(group_by, nk_source, product_class, product, setting, car_target)               AS grp,
    {events_case}                                                                               AS events,
    {totals_case}                                                                               AS total,
    (list_contains(exclude, 'review') AND (list_contains(from_review, events) OR list_contains(from_review, totals)))
    OR (list_contains(exclude, 'converted')
        AND (list_contains(converted_from_percent, events) OR list_contains(converted_from_percent, totals)))
    OR (list_contains(exclude, 'grey') AND publication_type IN {grey_types})
    OR (list_contains(exclude, 'rob') AND coalesce(rob_overall, '') <> 'low')
    OR list_contains(exclude, 'cohort:' || cohort_id)                                           AS excluded,
    *
FROM slice(struct_update(s, include_superseded := true))
WHERE (superseded_by IS NULL AND NOT list_contains(coalesce(outcomes_elsewhere, []), events))
   OR list_contains(coalesce(outcome_report_for, []), events);

-- name: slice_cohorts
-- Every column of the cohorts in the slice, in reading order.
SELECT *
FROM slice($slice)
ORDER BY year, first_author, cohort_id;

-- name: slice_cohorts_search
-- The Studies table: the columns it shows for the cohorts of the slice whose citation, product or notes
-- contain every word of $words (lowercase; an empty list matches all), at most $limit rows in reading order,
-- each carrying the match count. Only these columns are read: the whole record of a million cohorts is
-- not (the cohort card reads one record, the downloads read all only when asked).
WITH found AS NOT MATERIALIZED (
    SELECT cohort_id, study_id, superseded_by, first_author, year, product, nk_source, setting, publication_type,
           n_treated, n_evaluable, cr_count, doi, pmid, nct_ids, source_url
    FROM search_hits($slice, $words::VARCHAR[])
)
-- The count is a second pass, not count(*) OVER (): a window would hold every matching row in memory.
SELECT *, (SELECT count(*) FROM found) AS matches
FROM found
ORDER BY year, first_author, cohort_id
LIMIT $limit;

-- name: slice_cohorts_found
-- Every column of every cohort the Studies search finds, in reading order (the downloads).
SELECT *
FROM search_hits($slice, $words::VARCHAR[])
ORDER BY year, first_author, cohort_id;

-- name: cohort_record
-- One cohort's whole record, for its card.
SELECT * FROM trials WHERE cohort_id = $cohort_id;

-- name: rate_counts
-- Pooling input: the primary cohorts of the slice collapsed to their distinct (group, events, total, excluded by a
-- sensitivity choice, conference abstract or company report), with
-- how many cohorts share each row. Pooling needs nothing else, so a million cohorts arrive as a few
-- thousand rows. Rows with a null events or total are the cohorts that did not report: counted, never pooled.
SELECT grp, events, total, excluded, publication_type IN {grey_types} AS grey, count(*) AS cohorts
FROM rate_inputs($slice, $group_by, $events, $totals, $exclude::VARCHAR[])
GROUP BY ALL
ORDER BY grp NULLS LAST, events NULLS LAST, total NULLS LAST, excluded, grey;

-- name: persistence_rank_correlation
-- Spearman's rank correlation between longest persistence and the rate (events / total) over the primary
-- cohorts reporting both: Pearson's correlation of their average ranks (tied values share the mean of their
-- ranks, as scipy.stats.spearmanr). Ranked here, over distinct values, so no per-cohort row leaves DuckDB.
WITH pairs AS NOT MATERIALIZED (
    SELECT max_persistence_days::DOUBLE AS x, events::DOUBLE / total AS y
    FROM rate_inputs($slice, $group_by, $events, $totals, $exclude::VARCHAR[])
    WHERE max_persistence_days IS NOT NULL AND events IS NOT NULL AND total > 0 AND NOT excluded
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
           max_persistence_days, median_persistence_days, persistence_lower_bound, persistence_method,
           persistence_note, median_followup_months, cr_definition, publication_type, from_review,
           converted_from_percent, inherited_from, outcome_report_for, grp, events, total
    FROM rate_inputs($slice, $group_by, $events, $totals, $exclude::VARCHAR[])
    WHERE (NOT $need_rate OR (events IS NOT NULL AND total > 0 AND NOT excluded))
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

-- name: metaregression_cohorts
-- Meta-regression input: the primary cohorts of setting $setting reporting the rate (not left out by a
-- sensitivity choice), with the columns the moderators are coded from (nkdata/metareg.py), the largest
-- $limit in reading order, each row carrying how many qualified.
WITH qualified AS NOT MATERIALIZED (
    SELECT cohort_id, first_author, year, product, nk_source, product_class, lymphodepletion, cytokine_support,
           dose_max_per_kg, events, total
    FROM rate_inputs($slice, 'setting', $events, $totals, $exclude::VARCHAR[])
    WHERE grp = $setting AND events IS NOT NULL AND total > 0 AND NOT excluded
),
largest AS (
    SELECT * FROM qualified ORDER BY total DESC, year, first_author, cohort_id LIMIT $limit
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
FROM rate_inputs($slice, $group_by, $events, $totals, $exclude::VARCHAR[])
GROUP BY grp
ORDER BY grp;

-- name: survival_entries
-- Time-to-event entries of the slice's primary cohorts ($endpoint null: every endpoint; $landmark null: every
-- landmark; $medians_only: only the entries that give a median rather than a landmark estimate), in reading
-- order, at most $limit rows (null: all).
SELECT *
FROM survival_rows($slice)
WHERE ($endpoint::VARCHAR IS NULL OR endpoint = $endpoint::VARCHAR)
  AND ($landmark::DOUBLE IS NULL OR landmark_months = $landmark::DOUBLE)
  AND (NOT $medians_only::BOOLEAN OR landmark_months IS NULL)
ORDER BY endpoint, landmark_months NULLS LAST, year, first_author, cohort_id
LIMIT $limit;

-- name: survival_counts
-- How many time-to-event entries the slice holds, how many cohorts report any, and how many entries give
-- $endpoint at $landmark months or only its median: the totals behind capped tables and charts.
SELECT
    count(*)                                                                            AS entries,
    count(DISTINCT cohort_id)                                                           AS cohorts,
    count(*) FILTER (WHERE endpoint = $endpoint::VARCHAR AND landmark_months = $landmark::DOUBLE) AS at_landmark,
    count(*) FILTER (WHERE endpoint = $endpoint::VARCHAR AND landmark_months IS NULL)   AS medians
FROM survival_rows($slice);

-- name: survival_landmark_summary
-- Per setting, the entries giving $endpoint at $landmark months: how many, patients analysed (n treated where
-- n analysed is not reported), and the median, lowest and highest estimate (reported results are not pooled).
SELECT
    setting,
    count(*)                                                AS k,
    coalesce(sum(coalesce(n_analysed, n_treated)), 0)::BIGINT AS n,
    median(estimate_pct)                                    AS median_pct,
    min(estimate_pct)                                       AS min_pct,
    max(estimate_pct)                                       AS max_pct
FROM survival_rows($slice)
WHERE endpoint = $endpoint::VARCHAR AND landmark_months = $landmark::DOUBLE AND setting IS NOT NULL
GROUP BY setting
ORDER BY setting;

-- name: survival_landmark_inputs
-- Pooling input for one endpoint at one landmark: per setting, the distinct (estimate, CI, n analysed, median
-- follow-up) of the primary cohorts' entries, with how many entries share each row (nkdata/timetoevent.py).
SELECT setting, estimate_pct, ci_low_pct, ci_high_pct, n_analysed, median_followup_months, count(*) AS cohorts
FROM survival_rows($slice)
WHERE endpoint = $endpoint::VARCHAR AND landmark_months = $landmark::DOUBLE AND setting IS NOT NULL
  AND estimate_pct IS NOT NULL
GROUP BY ALL
ORDER BY ALL;

-- name: slice_summary
-- Headline counts of the slice. CR is pooled only over cohorts that report both CR and evaluable patients.
SELECT
    count(DISTINCT study_id)                                              AS publications,
    count(*)                                                              AS cohorts,
    coalesce(sum(n_treated), 0)::BIGINT                                           AS patients_treated,
    count(*) FILTER (WHERE n_treated IS NULL)                             AS cohorts_n_not_reported,
    count(*) FILTER (WHERE NOT aml_only)                                  AS cohorts_mixed,
    coalesce(sum(cr_count) FILTER (WHERE n_evaluable IS NOT NULL), 0)::BIGINT     AS cr_events,
    coalesce(sum(n_evaluable) FILTER (WHERE cr_count IS NOT NULL), 0)::BIGINT     AS cr_evaluable,
    count(*) FILTER (WHERE cr_count IS NOT NULL AND n_evaluable IS NOT NULL) AS cohorts_cr_reported,
    count(*) FILTER (WHERE cr_count IS NULL OR n_evaluable IS NULL)       AS cohorts_cr_not_reported,
    min(year)                                                             AS year_first,
    max(year)                                                             AS year_last
FROM slice($slice);

-- name: cohorts_per_year_by_source
-- Cohorts and patients per publication year and NK source.
SELECT year, nk_source, count(*) AS cohorts, coalesce(sum(n_treated), 0)::BIGINT AS patients
FROM slice($slice)
GROUP BY year, nk_source
ORDER BY year, nk_source;

-- name: source_by_setting
-- The source x setting matrix: cohorts and patients in each cell, and how many cohorts do not say how many
-- patients they treated (so a cell never reads "1 (0)" for a patient count that is not reported).
SELECT nk_source, setting, count(*) AS cohorts, coalesce(sum(n_treated), 0)::BIGINT AS patients,
       count(*) FILTER (WHERE n_treated IS NULL) AS cohorts_n_not_reported
FROM slice($slice)
GROUP BY nk_source, setting
ORDER BY nk_source, setting;

-- name: group_summary
-- Per group ($group_by is one of nk_source, product_class, product, setting): patients, CR over
-- treated and over evaluable, and how many cohorts did not report CR.
WITH s AS (
    SELECT group_value($group_by, nk_source, product_class, product, setting, car_target) AS grp, *
    FROM slice($slice)
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
    SELECT * FROM slice($slice)
),
long AS (
    SELECT nk_source, n_treated, UNNEST({safety_outcomes}, recursive := true)
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
-- Cohorts and patients left after each funnel step (years, each filter, each toggle, in sidebar order), in one
-- pass: step k keeps the rows passing the first k conditions.
SELECT step, count(*) FILTER (WHERE list_bool_and(passes[1:step])) AS cohorts,
       coalesce(sum(n_treated) FILTER (WHERE list_bool_and(passes[1:step])), 0)::BIGINT AS patients
FROM slice_flags($slice), range(1, {funnel_steps} + 1) AS steps(step)
GROUP BY step
ORDER BY step;

-- name: filter_options
-- Distinct values present in the dataset for each filter (by its Slice field), with the value of its parent
-- filter's column (products by NK source) and cohort counts. Generated from the filter table.
{filter_options}
ORDER BY field, code, parent;

-- name: facet_counts
-- For each filter option: the cohorts (and patients) the slice would hold with that option chosen alone for its
-- filter and every other choice kept (the counts beside the sidebar's options). Generated from the filter table.
{facet_counts}
ORDER BY field, code;

-- name: grade_inputs
-- What GRADE needs beyond the pooled numbers, per setting, over the cohorts pooled for one outcome ($events over
-- $totals, the same rate_inputs and sensitivity choices): cohorts and patients, patients by the risk of bias of
-- their publication, patients in indirect cohorts (mixed diagnoses, a transplant with the NK cells,
-- anti-leukemic lymphodepletion), cohorts whose count only a review gave, grey-literature cohorts.
SELECT grp                                                                        AS setting,
       count(*)                                                                   AS k,
       sum(total)::BIGINT                                                         AS n,
       coalesce(sum(total) FILTER (WHERE rob_overall = 'high'), 0)::BIGINT        AS n_rob_high,
       coalesce(sum(total) FILTER (WHERE rob_overall = 'some_concerns'), 0)::BIGINT AS n_rob_some,
       coalesce(sum(total) FILTER (WHERE rob_overall IS NULL), 0)::BIGINT         AS n_rob_none,
       coalesce(sum(total) FILTER (WHERE NOT aml_only), 0)::BIGINT                AS n_mixed,
       coalesce(sum(total) FILTER (WHERE co_transplant), 0)::BIGINT               AS n_co_transplant,
       coalesce(sum(total) FILTER (WHERE antileukemic_lymphodepletion), 0)::BIGINT AS n_antileukemic,
       coalesce(sum(total) FILTER (WHERE NOT aml_only OR co_transplant OR antileukemic_lymphodepletion), 0)::BIGINT
                                                                                  AS n_indirect,
       count(*) FILTER (WHERE list_contains(from_review, $events) OR list_contains(from_review, $totals)) AS k_review,
       count(*) FILTER (WHERE publication_type IN {grey_types})                   AS k_grey
FROM rate_inputs($slice, 'setting', $events, $totals, $exclude::VARCHAR[])
WHERE events IS NOT NULL AND total > 0 AND NOT excluded
GROUP BY grp
ORDER BY grp;

-- name: grade_survival_inputs
-- The same for the time-to-event entries giving $endpoint at $landmark months (patients: n analysed, else n
-- treated), per setting of the slice's primary cohorts.
WITH e AS (
    SELECT setting, rob_overall, aml_only, co_transplant, antileukemic_lymphodepletion, publication_type,
           UNNEST(survival) AS entry, n_treated
    FROM slice($slice)
    WHERE superseded_by IS NULL
),
m AS (
    SELECT *, coalesce(entry.n_analysed, n_treated, 0) AS patients
    FROM e
    WHERE entry.endpoint = $endpoint::VARCHAR AND entry.landmark_months = $landmark::DOUBLE AND setting IS NOT NULL
)
SELECT setting,
       count(*)                                                                   AS k,
       sum(patients)::BIGINT                                                      AS n,
       coalesce(sum(patients) FILTER (WHERE rob_overall = 'high'), 0)::BIGINT     AS n_rob_high,
       coalesce(sum(patients) FILTER (WHERE rob_overall = 'some_concerns'), 0)::BIGINT AS n_rob_some,
       coalesce(sum(patients) FILTER (WHERE rob_overall IS NULL), 0)::BIGINT      AS n_rob_none,
       coalesce(sum(patients) FILTER (WHERE NOT aml_only), 0)::BIGINT             AS n_mixed,
       coalesce(sum(patients) FILTER (WHERE co_transplant), 0)::BIGINT            AS n_co_transplant,
       coalesce(sum(patients) FILTER (WHERE antileukemic_lymphodepletion), 0)::BIGINT AS n_antileukemic,
       coalesce(sum(patients) FILTER (WHERE NOT aml_only OR co_transplant OR antileukemic_lymphodepletion), 0)::BIGINT
                                                                                  AS n_indirect,
       count(*) FILTER (WHERE entry.from_review)                                  AS k_review,
       count(*) FILTER (WHERE publication_type IN {grey_types})                   AS k_grey
FROM m
GROUP BY setting
ORDER BY setting;

-- name: rob_appraisals
-- The risk-of-bias table: every publication with a cohort in the slice (superseded reports included: they are
-- publications the review read, and some give an outcome's most complete report), its first author, year and
-- cohorts, and its appraisal's columns (all null: not appraised), in reading order; at most $limit rows, each
-- carrying how many publications and appraised publications the slice holds.
WITH pubs AS (
    SELECT study_id, min(first_author) AS first_author, min(year) AS year, count(*) AS cohorts,
           bool_or(superseded_by IS NULL) AS has_primary
    FROM slice(struct_update($slice, include_superseded := true))
    GROUP BY study_id
)
SELECT pubs.*, rob.* EXCLUDE (study_id), rob.study_id IS NOT NULL AS appraised,
       (SELECT count(*) FROM pubs) AS publications,
       (SELECT count(*) FROM pubs SEMI JOIN rob USING (study_id)) AS publications_appraised
FROM pubs LEFT JOIN rob ON rob.study_id = pubs.study_id
ORDER BY year, first_author, pubs.study_id
LIMIT $limit;

-- name: dataset_overview
-- Size and span of the whole dataset, for the About page and the year slider.
SELECT count(DISTINCT study_id) AS publications, count(*) AS cohorts,
       coalesce(sum(n_treated), 0)::BIGINT AS patients_treated,
       count(*) FILTER (WHERE superseded_by IS NULL) AS primary_cohorts,
       min(year) AS year_min, max(year) AS year_max
FROM trials;

-- name: coded_values
-- Each coded or required field's distinct values with one example cohort and a count (checked against the data
-- dictionary when a dataset is opened). The inner query is generated from the dictionary: one SELECT per field.
SELECT field, value, min(key) AS example, count(*) AS rows
FROM ({coded_values}) AS v
GROUP BY field, value
ORDER BY field, value;

-- name: identity_counts
-- Trials, publications and cohorts of the slice, counted apart: a trial is a trial_id (NCT id or programme slug)
-- shared by its publications; a publication without a trial_id counts as a trial of its own until it has one.
SELECT
    count(DISTINCT coalesce(trial_id, 'study:' || study_id))              AS trials,
    count(DISTINCT trial_id)                                              AS trials_identified,
    count(DISTINCT study_id) FILTER (WHERE trial_id IS NULL)              AS publications_without_trial,
    count(DISTINCT study_id)                                              AS publications,
    count(*)                                                              AS cohorts
FROM slice($slice);

-- ===== Registered trials =====
-- Queries over the `registry` view of data/registry.parquet (nkdata/registry_repository.py). The slice is one
-- STRUCT parameter (bound as the slice parameter; see RegistrySlice.sql_params), its conditions generated from
-- the filter table: the page's own filters and the sidebar filters mapped to registry columns. A trial without a
-- start year is kept only when no start-year range is set.
-- (No dollar signs in comments here: the loader reads every dollar-name of a block as a parameter.)

-- name: registry_setup_macro
CREATE OR REPLACE MACRO registry_slice(s) AS TABLE
SELECT * FROM registry WHERE {registry_where};

-- name: registry_coded_values
-- Each coded or required registry field's distinct values with one example trial and a count (checked against
-- the registry dictionary when the file is opened). Generated from the dictionary: one SELECT per field.
SELECT field, value, min(key) AS example, count(*) AS rows
FROM ({registry_coded_values}) AS v
GROUP BY field, value
ORDER BY field, value;

-- name: registry_summary
-- Headline numbers of the slice; `total` counts the whole file so the page can say what a filter hides.
SELECT
    count(*)                                                          AS trials,
    count(*) FILTER (WHERE results_status = 'published')              AS with_results,
    count(*) FILTER (WHERE status IN {recruiting_statuses})           AS recruiting,
    count(*) FILTER (WHERE status = 'completed' AND results_status IS DISTINCT FROM 'published')
                                                                      AS completed_no_results,
    count(*) FILTER (WHERE record_confidence = 'review_only')         AS review_only,
    min(status_as_of)                                                 AS as_of_min,
    max(status_as_of)                                                 AS as_of_max,
    (SELECT count(*) FROM registry WHERE start_year IS NULL)          AS no_start_year,
    (SELECT count(*) FROM registry)                                   AS total
FROM registry_slice($slice);

-- name: registry_facet_counts
-- For each option of the page's own filters: the trials the slice would hold with that option chosen alone for
-- its filter and every other choice kept. Generated from the filter table.
{registry_facet_counts}
ORDER BY field, code;

-- name: registry_source_phase
-- Trials per NK source (null = not reported) and phase (null = not reported).
SELECT nk_source, phase, count(*) AS trials
FROM registry_slice($slice)
GROUP BY ALL
ORDER BY nk_source NULLS LAST, phase NULLS LAST;

-- name: registry_car_by_year
-- CAR-engineered trials per CAR target and start year (trials without a start year are counted as null).
SELECT car_target, start_year, count(*) AS trials
FROM registry_slice($slice)
WHERE car_target IS NOT NULL
GROUP BY ALL
ORDER BY car_target, start_year NULLS LAST;

-- name: registry_status
-- Trials per status, with the range of dates on which those statuses were read.
SELECT status, count(*) AS trials, min(status_as_of) AS as_of_min, max(status_as_of) AS as_of_max
FROM registry_slice($slice)
GROUP BY ALL
ORDER BY trials DESC, status;

-- name: registry_sponsor_types
SELECT sponsor_type, count(*) AS trials
FROM registry_slice($slice)
GROUP BY ALL
ORDER BY trials DESC, sponsor_type NULLS LAST;

-- name: registry_countries
-- Trials per country named on the page read (a multinational trial counts once in each of its countries;
-- trials whose pages named no country are counted under null).
SELECT country, count(*) AS trials
FROM (
    SELECT CASE WHEN len(countries) = 0 THEN [NULL::VARCHAR] ELSE countries END AS country_list
    FROM registry_slice($slice)
), UNNEST(country_list) AS u(country)
GROUP BY ALL
ORDER BY trials DESC, country NULLS LAST;

-- name: registry_unpublished_completed
-- The research-waste view: completed trials of the slice with no published results, and the years since their
-- (primary) completion as registered, counted to the given year (the page passes this year).
SELECT registry_id, title, product, sponsor, completion_year,
       CASE WHEN completion_year IS NOT NULL THEN greatest($this_year::BIGINT - completion_year, 0) END
           AS years_since_completion,
       status_as_of
FROM registry_slice($slice)
WHERE status = 'completed' AND results_status IS DISTINCT FROM 'published'
ORDER BY years_since_completion DESC NULLS LAST, registry_id;

-- name: registry_table
-- One row per trial of the slice for the table and the CSV download, newest start first.
SELECT
    registry_id, registry, title,
    registry_url,
    phase, status, status_as_of, status_source_url,
    len(other_statuses)                                               AS other_status_count,
    array_to_string(list_transform(other_statuses,
        lambda s: s.status || ' (' || s.as_of || ')'), '; ')          AS other_statuses_text,
    sponsor, sponsor_type, countries, start_year, completion_year, enrollment, enrollment_type,
    nk_source, product, product_class, car_target, donor_type, setting, population, aml_only,
    conditions, cohort_ids, results_status, record_confidence, known_from, source_url, source_section
FROM registry_slice($slice)
ORDER BY start_year DESC NULLS LAST, registry_id;

-- name: registry_trials_by_id
-- The registered trials with the given ids (a cohort card lists the trials its publication reports).
SELECT registry_id, title, phase, status, status_as_of, sponsor, cohort_ids
FROM registry
WHERE list_contains($ids::VARCHAR[], registry_id)
ORDER BY registry_id;
