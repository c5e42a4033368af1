//! The guideline warnings on a plan's steps (CLINICAL.md, "Warnings"):
//! codes with plain messages, never a silent change, never a hard block.
//! Pure, no database, no async.

use super::plan_model::{EPSILON, METHADONE_MIN_DAYS, PlanRequest, Step, Warning, WarningCode};

/// The shortest run of steps the pace is measured over (CLINICAL.md: "over
/// any run of consecutive steps lasting 28 days or more").
pub const PACE_WINDOW_DAYS: i64 = 28;
/// The guideline pace: 10% of the starting dose per week.
pub const PACE_PER_WEEK: f64 = 0.10;

/// The guideline checks, applied to a plan's steps (doses never rising,
/// the last step being the target).
pub fn check_guideline(request: &PlanRequest, steps: &[Step]) -> Vec<Warning> {
    let start = request.starting_daily_dose;
    let unit = request.drug.unit();
    let mut warnings = Vec::new();
    let mut push = |code, message: String| {
        if !warnings.iter().any(|w: &Warning| w.code == code) {
            warnings.push(Warning { code, message });
        }
    };

    if request.is_moud() {
        push(
            WarningCode::MoudTaper,
            "This medication treats opioid use disorder: stopping it raises the risk of overdose (CDC 2022; SAMHSA TIP 63). The CDC pain presets do not apply; taper only with the patient's informed agreement and offer naloxone.".into(),
        );
    }
    if let Some(regimen) = request.regimen_daily_dose
        && start > regimen + EPSILON
    {
        push(
            WarningCode::StartsAboveRegimen,
            format!(
                "The plan starts at {start} a day, above the patient's active orders of this medication ({regimen} a day)."
            ),
        );
    }
    if let Some((from, days, fall)) = fastest_run(steps, start, unit) {
        push(
            WarningCode::FasterThanGuideline,
            format!(
                "From step {from} the dose falls {:.1}% of the starting dose in {days} days ({:.1}% per week); the CDC advises about 10% of the starting dose per week at most (10% per month after a year or more on opioids).",
                fall / start * 100.0,
                fall / start * 100.0 / days as f64 * 7.0,
            ),
        );
    }
    for pair in steps.windows(2) {
        let (from, to) = (pair[0].daily_dose, pair[1].daily_dose);
        let cut = from - to;
        if cut > 0.25 * from + EPSILON && cut > unit + EPSILON && from > 0.30 * start + EPSILON {
            push(
                WarningCode::LargeSingleCut,
                format!(
                    "Step {} cuts {:.0}% of the dose at once; drug labels advise no more than 10–25% every 2–4 weeks.",
                    pair[1].index,
                    cut / from * 100.0
                ),
            );
        }
        if to <= EPSILON && from > unit + EPSILON {
            push(
                WarningCode::AbruptStop,
                format!(
                    "Step {} stops from {from} straight to 0; the CDC advises never to stop abruptly: go down through the smallest strength.",
                    pair[1].index
                ),
            );
        }
        if request.drug.methadone && cut > 0.10 * from + EPSILON && cut > unit + EPSILON {
            push(
                WarningCode::MethadonePace,
                format!(
                    "Step {} cuts methadone by {:.0}%; the label advises reductions under 10%, 10–14 days apart.",
                    pair[1].index,
                    cut / from * 100.0
                ),
            );
        }
    }
    let reducing = &steps[..steps.len().saturating_sub(1)];
    if request.drug.methadone
        && let Some(short) = reducing
            .iter()
            .find(|s| s.days() < i64::from(METHADONE_MIN_DAYS))
    {
        push(
            WarningCode::MethadonePace,
            format!(
                "Step {} lasts {} days; the methadone label advises reductions 10–14 days apart at least.",
                short.index,
                short.days()
            ),
        );
    }
    if request.follow_up_every_days > 30 {
        push(
            WarningCode::FollowUpGap,
            format!(
                "Follow-up every {} days; during a taper the CDC advises following up at least monthly.",
                request.follow_up_every_days
            ),
        );
    }
    warnings
}

/// The run of consecutive steps that falls fastest beyond the guideline
/// pace, if any: `(first step's index, the run's days, its fall)`.
///
/// A run is steps `i..e` (the dose after it is step `e`'s); it counts when
/// it lasts 28 days or more, or when it is the whole plan and the plan is
/// shorter. It is too fast when its fall exceeds 10% of the starting dose
/// per week of the run and more than one unit (a one-unit cut never warns
/// by itself). With `T` the day a step starts, the fall exceeds the pace
/// `c` per day exactly when `dose[i] + c·T[i] > dose[e] + c·T[e]`; doses
/// never rising, the starts `i` to consider for an end `e` are a prefix
/// (long enough before `e`, dose more than one unit above `e`'s), so a
/// running maximum finds the worst in O(n log n).
pub fn fastest_run(steps: &[Step], start: f64, unit: f64) -> Option<(u32, i64, f64)> {
    let ends = steps.len().checked_sub(1).filter(|n| *n >= 1)?;
    let pace = PACE_PER_WEEK * start / 7.0;
    // T[k]: days from the plan's start to step k.
    let mut t = Vec::with_capacity(steps.len());
    let mut total = 0i64;
    for s in steps {
        t.push(total);
        total += s.days();
    }
    let dose = |k: usize| steps[k].daily_dose;
    let score = |k: usize| dose(k) + pace * t[k] as f64;
    let too_fast = |i: usize, e: usize| {
        let fall = dose(i) - dose(e);
        let days = t[e] - t[i];
        (fall > pace * days as f64 + EPSILON && fall > unit + EPSILON).then_some((
            steps[i].index,
            days,
            fall,
        ))
    };
    if t[ends] < PACE_WINDOW_DAYS {
        return too_fast(0, ends);
    }
    // best[k]: the start among 0..=k with the highest score.
    let mut best = Vec::with_capacity(ends);
    for k in 0..ends {
        let keep = k > 0 && score(best[k - 1]) >= score(k);
        best.push(if keep { best[k - 1] } else { k });
    }
    let mut worst: Option<(u32, i64, f64)> = None;
    for e in 1..=ends {
        let long_enough = t[..e].partition_point(|&ti| ti <= t[e] - PACE_WINDOW_DAYS);
        let above = steps[..e].partition_point(|s| s.daily_dose > dose(e) + unit + EPSILON);
        let limit = long_enough.min(above);
        if limit == 0 {
            continue;
        }
        if let Some(run) = too_fast(best[limit - 1], e) {
            let rate = |r: (u32, i64, f64)| r.2 / r.1.max(1) as f64;
            if worst.is_none_or(|w| rate(run) > rate(w)) {
                worst = Some(run);
            }
        }
    }
    worst
}
