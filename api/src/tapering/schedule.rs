//! The taper plan generator: pure, no database, no async. Rules and numbers
//! from `CLINICAL.md` (CDC 2022 guideline, p. 15–18; FDA labelling 2019):
//!
//! - Every dose after the first is dispensable (a sum of whole units of the
//!   listed strengths, see `dispensable`); the start is the patient's
//!   current prescription, dispensable or not, up to the plausibility bound.
//! - Rounding is gentle: the next dose is the smallest dispensable dose not
//!   below the rule's next dose, if one lies below the current dose; if none
//!   does, the largest one below it (the smallest possible cut), the step
//!   before that cut lasting step days × actual cut ÷ the rule's cut (whole
//!   days, never shorter than the rule's). Doses never rise, and a plan
//!   never skips the smallest strength on its way to 0.
//! - Presets never cut more than max(25% of the current dose, one unit), and
//!   once one unit is more than 25% of the current dose, each remaining step
//!   lasts twice as long.
//! - Methadone under a preset: each next dose is also at least 90% of the
//!   current one and at least 1 mg less, and steps last 14 days or more.
//! - The CDC presets do not apply to MOUD (buprenorphine; methadone with an
//!   active OUD order): a preset for it is bad input on `preset`.
//! - The plan ends at the target (default 0) after the smallest strength.
//!
//! Presets:
//! - `CDC_LONG_TERM`: 10% of the starting daily dose per 4 weeks.
//! - `CDC_SHORT_TERM`: 10% of the starting dose per week until about 30% of
//!   it remains, then 10% of that remaining dose per week.
//! - `CUSTOM`: a percentage of the current dose every N days; checked
//!   against the guideline (`guideline`) and warned about, never silently
//!   changed.

use chrono::{Duration, NaiveDate};

use super::dispensable::Dispensable;
pub use super::guideline::check_guideline;
use super::plan_model::err;
pub use super::plan_model::{
    Drug, EPSILON, MAX_MCG_PER_HOUR, MAX_MG_PER_DAY, METHADONE_MIN_DAYS, Plan, PlanRequest, Rule,
    Step, TaperPreset, Warning, WarningCode, positive,
};
use crate::error::InputError;

/// How far back a plan may start (one written up after the visit).
pub const MAX_DAYS_BACK: i64 = 7;
/// How far ahead a plan may start.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// Follow-up cadence when none is given.
pub const DEFAULT_FOLLOW_UP_DAYS: i32 = 28;

/// The earliest day a plan written `today` may start.
pub fn earliest_start(today: NaiveDate) -> NaiveDate {
    today - Duration::days(MAX_DAYS_BACK)
}

/// A new plan starts at most a week back and a year ahead.
pub fn check_start(starts_on: NaiveDate, today: NaiveDate) -> Result<(), InputError> {
    if starts_on < earliest_start(today) {
        return Err(err(
            "startsOn",
            "startsOn may be at most 7 days in the past",
        ));
    }
    if starts_on > today + Duration::days(MAX_DAYS_AHEAD) {
        return Err(err("startsOn", "startsOn may be at most a year ahead"));
    }
    Ok(())
}

/// No plan needs more steps than this (a 2-year plan has a few dozen).
const MAX_STEPS: usize = 2_000;
/// No plan lasts longer than this (100 years: only an absurd pace gets there).
const MAX_PLAN_DAYS: i64 = 36_525;

pub const CDC_LONG_TERM_DAYS: u32 = 28;
pub const CDC_SHORT_TERM_DAYS: u32 = 7;
/// Builds the plan's steps and the guideline warnings about them.
pub fn generate(request: &PlanRequest) -> Result<Plan, InputError> {
    validate(request)?;
    let start = request.starting_daily_dose;
    let target = request.target_daily_dose;
    let dispensable = Dispensable::new(&request.drug.strengths, start)
        .ok_or_else(|| err("medicationId", "the medication has no dispensable strength"))?;
    let unit = request.drug.unit();
    let preset = request.rule.is_preset();
    let methadone_rule = preset && request.drug.methadone;

    let mut steps = Vec::with_capacity(24);
    let mut dose = start;
    let mut day = request.starts_on;
    let mut total_days: i64 = 0;
    // For CDC_SHORT_TERM: the dose when about 30% of the start remained.
    let mut short_term_remaining: Option<f64> = None;

    while dose > target + EPSILON {
        if steps.len() >= MAX_STEPS {
            return Err(too_long(request));
        }
        // The rule's next dose and its step length.
        let (rule_next, mut base_days) = match request.rule {
            Rule::CdcLongTerm => (dose - 0.10 * start, CDC_LONG_TERM_DAYS),
            Rule::CdcShortTerm => {
                if dose > 0.30 * start + EPSILON {
                    (dose - 0.10 * start, CDC_SHORT_TERM_DAYS)
                } else {
                    let remaining = *short_term_remaining.get_or_insert(dose);
                    (dose - 0.10 * remaining, CDC_SHORT_TERM_DAYS)
                }
            }
            Rule::Custom {
                reduction_percent,
                step_days,
            } => (dose * (1.0 - reduction_percent / 100.0), step_days),
        };
        let mut low = rule_next;
        if preset {
            // Never more than max(25% of the current dose, one unit).
            low = low.max(dose - (0.25 * dose).max(unit));
        }
        // The rule's cut (a stretched step is measured against it).
        let rule_cut = dose - low.max(target);
        if methadone_rule {
            // At most 10% of the current dose, every 14 days or slower.
            low = low.max(0.90 * dose);
            base_days = base_days.max(METHADONE_MIN_DAYS);
        }
        let low = low.max(target);
        let below = dispensable.index_below(dose).unwrap_or(0);
        let mut high = below;
        if methadone_rule {
            // …and at least 1 mg less.
            high = high.min(dispensable.index_at_most(dose - 1.0).unwrap_or(0));
        }
        let base = f64::from(base_days);
        let (mut next, mut days) = match dispensable.first_in(dispensable.index_at_least(low), high)
        {
            Some(n) => (dispensable.dose(n), base),
            None => {
                // Nothing between: the smallest possible cut, with the
                // step before it held proportionally longer.
                let next = dispensable.dose(dispensable.last_at_most(below));
                let stretched = (base * (dose - next) / rule_cut - EPSILON).ceil();
                (next, stretched.max(base))
            }
        };
        // Never past the target, never straight past the smallest strength.
        next = next.max(target);
        if next < unit - EPSILON && dose > unit + EPSILON {
            next = unit;
        }
        // Near the end one unit is over 25% of the dose: slow down.
        if preset && unit > 0.25 * dose + EPSILON {
            days *= 2.0;
        }
        let length = days as i64;
        total_days += length;
        if total_days > MAX_PLAN_DAYS {
            return Err(too_long(request));
        }
        steps.push(step(
            steps.len(),
            day,
            length,
            dose,
            request.drug.mme_factor,
        ));
        day += Duration::days(length);
        dose = next;
    }
    // The target itself, held for one base period (or marking the stop).
    let final_days = match request.rule {
        Rule::CdcLongTerm => CDC_LONG_TERM_DAYS,
        Rule::CdcShortTerm => CDC_SHORT_TERM_DAYS,
        Rule::Custom { step_days, .. } => step_days,
    };
    let final_days = if methadone_rule {
        final_days.max(METHADONE_MIN_DAYS)
    } else {
        final_days
    };
    steps.push(step(
        steps.len(),
        day,
        i64::from(final_days),
        target,
        request.drug.mme_factor,
    ));

    let warnings = check_guideline(request, &steps);
    Ok(Plan { steps, warnings })
}

fn too_long(request: &PlanRequest) -> InputError {
    let field = if request.rule.is_preset() {
        "startingDailyDose"
    } else {
        "reductionPercent"
    };
    err(field, "the plan would last more than 100 years")
}

fn step(index: usize, starts_on: NaiveDate, days: i64, dose: f64, factor: Option<f64>) -> Step {
    Step {
        index: index as u32,
        starts_on,
        ends_on: starts_on + Duration::days(days - 1),
        daily_dose: dose,
        daily_mme: factor.map(|f| dose * f),
    }
}

fn validate(request: &PlanRequest) -> Result<(), InputError> {
    let drug = &request.drug;
    if drug.strengths.is_empty() || drug.strengths.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(err(
            "medicationId",
            "the medication has no dispensable strength",
        ));
    }
    if request.is_moud() && request.rule.is_preset() {
        return Err(err(
            "preset",
            "the CDC presets are for pain; a medication for opioid use disorder needs a CUSTOM plan with a reason",
        ));
    }
    let start = request.starting_daily_dose;
    let bound = drug.max_daily_dose();
    if !start.is_finite() || start <= 0.0 || start > bound {
        return Err(err(
            "startingDailyDose",
            format!(
                "startingDailyDose must be above 0 and at most {bound} {}",
                if drug.per_hour { "mcg/hr" } else { "mg/day" }
            ),
        ));
    }
    let target = request.target_daily_dose;
    if !target.is_finite() || target < 0.0 || target >= start {
        return Err(err(
            "targetDailyDose",
            "targetDailyDose must be at least 0 and below the starting dose",
        ));
    }
    let dispensable = Dispensable::new(&drug.strengths, target)
        .ok_or_else(|| err("medicationId", "the medication has no dispensable strength"))?;
    if !dispensable.contains(target) {
        return Err(err(
            "targetDailyDose",
            format!(
                "targetDailyDose must be 0 or a sum of the medication's strengths ({})",
                strengths_text(&drug.strengths)
            ),
        ));
    }
    if !(1..=365).contains(&request.follow_up_every_days) {
        return Err(err(
            "followUpEveryDays",
            "followUpEveryDays must be from 1 to 365",
        ));
    }
    match request.rule {
        Rule::Custom {
            reduction_percent,
            step_days,
        } => {
            if !(reduction_percent.is_finite()
                && reduction_percent > 0.0
                && reduction_percent <= 100.0)
            {
                return Err(err(
                    "reductionPercent",
                    "reductionPercent must be above 0 and at most 100",
                ));
            }
            if !(1..=365).contains(&step_days) {
                return Err(err("stepDays", "stepDays must be from 1 to 365"));
            }
        }
        _ if request.follow_up_every_days > 30 => {
            // A preset is the guideline: it follows up at least monthly.
            return Err(err(
                "followUpEveryDays",
                "CDC presets follow up at least monthly (30 days or less); use CUSTOM for another cadence",
            ));
        }
        _ => {}
    }
    Ok(())
}

fn strengths_text(strengths: &[f64]) -> String {
    strengths
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Daily MME of a dose: dose × the CDC 2022 factor (unrounded).
pub fn daily_mme(daily_dose: f64, factor: Option<f64>) -> Option<f64> {
    factor.map(|f| daily_dose * f)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
