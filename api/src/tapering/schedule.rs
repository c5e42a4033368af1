//! The taper plan generator: pure, no database, no async. Rules and numbers
//! from `CLINICAL.md` (CDC 2022 guideline, p. 15–18; FDA labelling 2019):
//!
//! - Every cut is a whole number of units (unit = the smallest dispensable
//!   strength): the rule's reduction rounded down. Doses never rise.
//! - A rule's reduction smaller than one unit cuts one unit and the step
//!   lasts proportionally longer (rounded up to whole days), so the average
//!   pace never exceeds the rule.
//! - Presets never cut more than 25% of the current dose unless the cut is a
//!   single unit, and once one unit is more than 25% of the current dose,
//!   each remaining step lasts twice as long.
//! - The plan ends at the target (default 0) after the smallest strength.
//!
//! Presets:
//! - `CDC_LONG_TERM`: about 10% of the starting daily dose per 4 weeks.
//! - `CDC_SHORT_TERM`: 10% of the starting dose per week until about 30% of
//!   it remains, then 10% of that remaining dose per week.
//! - `CUSTOM`: a percentage of the current dose every N days; checked
//!   against the guideline and warned about, never silently changed.

use chrono::{Duration, NaiveDate};

use crate::error::InputError;

// How a plan is made: a CDC preset or a custom pace (the GraphQL enum and
// its stored form).
crate::stored::stored_enum!(
    TaperPreset {
        /// About 10% of the starting dose per 4 weeks (a year or more on opioids).
        CdcLongTerm => "CDC_LONG_TERM",
        /// 10% of the starting dose per week to about 30%, then 10% of what
        /// remains per week (weeks to months on opioids).
        CdcShortTerm => "CDC_SHORT_TERM",
        /// `reductionPercent` of the current dose every `stepDays`.
        Custom => "CUSTOM",
    }
);

/// How a plan reduces the dose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    CdcLongTerm,
    CdcShortTerm,
    Custom {
        reduction_percent: f64,
        step_days: u32,
    },
}

impl Rule {
    pub fn is_preset(&self) -> bool {
        !matches!(self, Rule::Custom { .. })
    }

    /// The rule a preset names; CUSTOM needs its percentage and its step
    /// length (at least one day).
    pub fn for_preset(
        preset: TaperPreset,
        reduction_percent: Option<f64>,
        step_days: Option<i32>,
    ) -> Result<Self, InputError> {
        Ok(match preset {
            TaperPreset::CdcLongTerm => Rule::CdcLongTerm,
            TaperPreset::CdcShortTerm => Rule::CdcShortTerm,
            TaperPreset::Custom => Rule::Custom {
                reduction_percent: reduction_percent.ok_or_else(|| {
                    err(
                        "reductionPercent",
                        "reductionPercent is required for CUSTOM",
                    )
                })?,
                step_days: positive(
                    step_days.ok_or_else(|| err("stepDays", "stepDays is required for CUSTOM"))?,
                    "stepDays",
                )?,
            },
        })
    }
}

/// A count typed by a person (days) that must be at least 1.
pub fn positive(value: i32, field: &'static str) -> Result<u32, InputError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| err(field, format!("{field} must be at least 1")))
}

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

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub starting_daily_dose: f64,
    pub target_daily_dose: f64,
    pub starts_on: NaiveDate,
    pub rule: Rule,
    pub follow_up_every_days: u32,
    /// The medication's smallest dispensable strength: one unit.
    pub unit: f64,
    /// MME conversion factor; `None` where none applies.
    pub mme_factor: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub index: u32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub daily_dose: f64,
    /// Unrounded.
    pub daily_mme: Option<f64>,
}

impl Step {
    pub fn days(&self) -> i64 {
        (self.ends_on - self.starts_on).num_days() + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningCode {
    FasterThanGuideline,
    LargeSingleCut,
    AbruptStop,
    FollowUpGap,
}

crate::stored::stored_enum!(impl WarningCode {
    FasterThanGuideline => "FASTER_THAN_GUIDELINE",
    LargeSingleCut => "LARGE_SINGLE_CUT",
    AbruptStop => "ABRUPT_STOP",
    FollowUpGap => "FOLLOW_UP_GAP",
});

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub warnings: Vec<Warning>,
}

fn err(field: &'static str, message: impl Into<String>) -> InputError {
    InputError::new(field, message)
}

/// Guards against floating-point dust in unit arithmetic.
const EPSILON: f64 = 1e-9;
/// No plan needs more steps than this (a 2-year plan has a few dozen).
const MAX_STEPS: usize = 2_000;

pub const CDC_LONG_TERM_DAYS: u32 = 28;
pub const CDC_SHORT_TERM_DAYS: u32 = 7;

/// Builds the plan's steps and the guideline warnings about them.
pub fn generate(request: &PlanRequest) -> Result<Plan, InputError> {
    validate(request)?;
    let unit = request.unit;
    let start = request.starting_daily_dose;
    let target = request.target_daily_dose;
    let preset = request.rule.is_preset();

    let mut steps = Vec::new();
    let mut dose = start;
    let mut day = request.starts_on;
    // For CDC_SHORT_TERM: the dose when about 30% of the start remained.
    let mut short_term_remaining: Option<f64> = None;

    while dose > target + EPSILON {
        if steps.len() >= MAX_STEPS {
            return Err(err(
                "startingDailyDose",
                "the plan would have too many steps",
            ));
        }
        // The rule's reduction per its base period.
        let (reduction, base_days) = match request.rule {
            Rule::CdcLongTerm => (0.10 * start, CDC_LONG_TERM_DAYS),
            Rule::CdcShortTerm => {
                if dose > 0.30 * start + EPSILON {
                    (0.10 * start, CDC_SHORT_TERM_DAYS)
                } else {
                    let remaining = *short_term_remaining.get_or_insert(dose);
                    (0.10 * remaining, CDC_SHORT_TERM_DAYS)
                }
            }
            Rule::Custom {
                reduction_percent,
                step_days,
            } => (reduction_percent / 100.0 * dose, step_days),
        };

        let mut units = ((reduction + EPSILON) / unit).floor();
        let mut days = f64::from(base_days);
        if units < 1.0 {
            // Less than one unit: cut one, over proportionally more days.
            units = 1.0;
            days = (f64::from(base_days) * unit / reduction - EPSILON).ceil();
        }
        if preset {
            // Never more than 25% of the current dose, unless a single unit.
            let cap = ((0.25 * dose + EPSILON) / unit).floor().max(1.0);
            units = units.min(cap);
            // Near the end, slow down: one unit is over 25% of the dose.
            if unit > 0.25 * dose + EPSILON {
                days *= 2.0;
            }
        }
        // Whole units down, never past the target.
        let next = (dose - units * unit).max(target);
        let length = days.max(1.0) as i64;
        steps.push(step(steps.len(), day, length, dose, request.mme_factor));
        day += Duration::days(length);
        dose = next;
    }
    // The target itself, held for one base period (or marking the stop).
    let final_days = match request.rule {
        Rule::CdcLongTerm => CDC_LONG_TERM_DAYS,
        Rule::CdcShortTerm => CDC_SHORT_TERM_DAYS,
        Rule::Custom { step_days, .. } => step_days,
    };
    steps.push(step(
        steps.len(),
        day,
        i64::from(final_days),
        target,
        request.mme_factor,
    ));

    let warnings = check_guideline(request, &steps);
    Ok(Plan { steps, warnings })
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
    let start = request.starting_daily_dose;
    if !start.is_finite() || start <= 0.0 || start > 100_000.0 {
        return Err(err(
            "startingDailyDose",
            "startingDailyDose must be a positive amount",
        ));
    }
    let target = request.target_daily_dose;
    if !target.is_finite() || target < 0.0 || target >= start {
        return Err(err(
            "targetDailyDose",
            "targetDailyDose must be at least 0 and below the starting dose",
        ));
    }
    if !(request.unit.is_finite() && request.unit > 0.0) {
        return Err(err(
            "medicationId",
            "the medication has no dispensable strength",
        ));
    }
    let whole_units = |dose: f64| {
        let units = dose / request.unit;
        (units - units.round()).abs() < 1e-6
    };
    if !whole_units(start) {
        return Err(err(
            "startingDailyDose",
            format!(
                "startingDailyDose must be a whole number of the smallest strength ({})",
                request.unit
            ),
        ));
    }
    if !whole_units(target) {
        return Err(err(
            "targetDailyDose",
            format!(
                "targetDailyDose must be a whole number of the smallest strength ({})",
                request.unit
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

/// The guideline checks (CLINICAL.md), applied to any plan.
pub fn check_guideline(request: &PlanRequest, steps: &[Step]) -> Vec<Warning> {
    let start = request.starting_daily_dose;
    let unit = request.unit;
    let mut warnings = Vec::new();
    let mut push = |code, message: String| {
        if !warnings.iter().any(|w: &Warning| w.code == code) {
            warnings.push(Warning { code, message });
        }
    };

    // Average pace from the start to the target (the target step excluded).
    let reducing_days: i64 = steps
        .iter()
        .take(steps.len().saturating_sub(1))
        .map(Step::days)
        .sum();
    if reducing_days > 0 {
        let per_week = (start - request.target_daily_dose) / reducing_days as f64 * 7.0;
        if per_week > 0.10 * start + EPSILON {
            push(
                WarningCode::FasterThanGuideline,
                format!(
                    "Reduces {:.1}% of the starting dose per week on average; the CDC advises about 10% per week at most (10% per month after a year or more on opioids).",
                    per_week / start * 100.0
                ),
            );
        }
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

/// Daily MME of a dose: dose × the CDC 2022 factor (unrounded).
pub fn daily_mme(daily_dose: f64, factor: Option<f64>) -> Option<f64> {
    factor.map(|f| daily_dose * f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn request(start: f64, unit: f64, factor: Option<f64>, rule: Rule) -> PlanRequest {
        PlanRequest {
            starting_daily_dose: start,
            target_daily_dose: 0.0,
            starts_on: date("2026-01-05"),
            rule,
            follow_up_every_days: 28,
            unit,
            mme_factor: factor,
        }
    }

    fn doses(plan: &Plan) -> Vec<f64> {
        plan.steps.iter().map(|s| s.daily_dose).collect()
    }

    /// CLINICAL.md examples of daily MME (CDC 2022 factors).
    #[test]
    fn mme_reference_values() {
        let cases = [
            ("oxycodone 60 mg/day", 60.0, 1.5, 90.0),
            ("oxycodone 10 mg four times a day", 40.0, 1.5, 60.0),
            ("fentanyl patch 25 mcg/hr", 25.0, 2.4, 60.0),
            ("methadone 20 mg/day", 20.0, 4.7, 94.0),
            ("hydromorphone 8 mg/day", 8.0, 5.0, 40.0),
            ("tramadol 200 mg/day", 200.0, 0.2, 40.0),
            ("codeine 120 mg/day", 120.0, 0.15, 18.0),
        ];
        for (case, dose, factor, mme) in cases {
            let got = daily_mme(dose, Some(factor)).unwrap();
            assert!((got - mme).abs() < 1e-9, "{case}: {got}");
        }
        assert_eq!(daily_mme(16.0, None), None, "buprenorphine has no factor");
    }

    /// CLINICAL.md: 40 mg oxycodone, CDC long-term: 4 mg per 28 days is less
    /// than one 5 mg unit → cut 5 mg every 35 days.
    #[test]
    fn below_one_unit_cuts_one_unit_over_longer_steps() {
        let plan = generate(&request(40.0, 5.0, Some(1.5), Rule::CdcLongTerm)).unwrap();
        assert_eq!(
            doses(&plan),
            [40.0, 35.0, 30.0, 25.0, 20.0, 15.0, 10.0, 5.0, 0.0]
        );
        assert_eq!(plan.steps[0].days(), 35);
        assert_eq!(plan.steps[4].days(), 35, "at 20 mg one unit is exactly 25%");
        // Near the end one unit is over 25% of the dose: twice as long.
        assert_eq!(plan.steps[5].days(), 70);
        assert_eq!(plan.steps[7].days(), 70);
        assert!(plan.warnings.is_empty());
    }

    /// The acceptance case: 60 mg oxycodone, CDC long-term.
    #[test]
    fn cdc_long_term_from_60_mg_oxycodone() {
        let plan = generate(&request(60.0, 5.0, Some(1.5), Rule::CdcLongTerm)).unwrap();
        assert_eq!(plan.steps[0].daily_mme, Some(90.0));
        assert_eq!(
            plan.steps[0].days(),
            28,
            "6 mg per 4 weeks rounds down to one 5 mg unit"
        );
        let d = doses(&plan);
        assert_eq!(d.first(), Some(&60.0));
        assert_eq!(d.last(), Some(&0.0));
        for pair in plan.steps.windows(2) {
            let cut = pair[0].daily_dose - pair[1].daily_dose;
            assert!(cut >= 0.0);
            if pair[0].daily_dose > 0.3 * 60.0 {
                assert!(cut <= 0.25 * pair[0].daily_dose + 1e-9 || cut <= 5.0 + 1e-9);
            }
        }
        let total: i64 = plan
            .steps
            .iter()
            .take(plan.steps.len() - 1)
            .map(Step::days)
            .sum();
        assert!(total >= 182, "six months or more: {total} days");
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn cdc_short_term_is_weekly_then_slower_below_30_percent() {
        let plan = generate(&request(100.0, 10.0, Some(1.0), Rule::CdcShortTerm)).unwrap();
        let d = doses(&plan);
        // 10 mg (10% of 100) per week down to 30 mg…
        assert_eq!(&d[..8], &[100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0]);
        assert!(plan.steps[..7].iter().all(|s| s.days() == 7));
        // …then 10% of the remaining 30 mg = 3 mg/week < one 10 mg unit:
        // one unit over 7 × 10/3 → 24 days, doubled near the end → 48.
        assert_eq!(&d[8..], &[20.0, 10.0, 0.0]);
        assert_eq!(plan.steps[7].days(), 48);
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn presets_name_their_rule_and_custom_needs_its_pace() {
        assert_eq!(
            Rule::for_preset(TaperPreset::CdcLongTerm, Some(50.0), None),
            Ok(Rule::CdcLongTerm)
        );
        assert_eq!(
            Rule::for_preset(TaperPreset::Custom, Some(10.0), Some(14)),
            Ok(Rule::Custom {
                reduction_percent: 10.0,
                step_days: 14
            })
        );
        let field = |r: Result<Rule, InputError>| r.unwrap_err().field;
        assert_eq!(
            field(Rule::for_preset(TaperPreset::Custom, None, Some(14))),
            "reductionPercent"
        );
        assert_eq!(
            field(Rule::for_preset(TaperPreset::Custom, Some(10.0), None)),
            "stepDays"
        );
        assert_eq!(
            field(Rule::for_preset(TaperPreset::Custom, Some(10.0), Some(0))),
            "stepDays"
        );
        for preset in [
            TaperPreset::CdcLongTerm,
            TaperPreset::CdcShortTerm,
            TaperPreset::Custom,
        ] {
            assert_eq!(TaperPreset::parse(preset.as_str()), Some(preset));
        }
    }

    #[test]
    fn a_plan_starts_at_most_a_week_back_and_a_year_ahead() {
        let today = date("2026-03-10");
        assert!(check_start(date("2026-03-03"), today).is_ok());
        assert!(check_start(date("2027-03-10"), today).is_ok());
        assert_eq!(
            check_start(date("2026-03-02"), today).unwrap_err().field,
            "startsOn"
        );
        assert_eq!(
            check_start(date("2027-03-11"), today).unwrap_err().field,
            "startsOn"
        );
    }

    #[test]
    fn presets_cap_cuts_at_a_quarter_of_the_dose() {
        // Morphine 300 mg: 10% = 30 mg = two 15 mg units; below 120 mg two
        // units would exceed 25%, so cuts fall to one unit.
        let plan = generate(&request(300.0, 15.0, Some(1.0), Rule::CdcShortTerm)).unwrap();
        for pair in plan.steps.windows(2) {
            let cut = pair[0].daily_dose - pair[1].daily_dose;
            assert!(
                cut <= (0.25 * pair[0].daily_dose).max(15.0) + 1e-9,
                "{pair:?}"
            );
        }
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn custom_plans_warn_instead_of_changing() {
        // 50% every 3 days: far faster than 10%/week, and large single cuts.
        let plan = generate(&request(
            60.0,
            5.0,
            Some(1.5),
            Rule::Custom {
                reduction_percent: 50.0,
                step_days: 3,
            },
        ))
        .unwrap();
        let codes: Vec<_> = plan.warnings.iter().map(|w| w.code).collect();
        assert!(codes.contains(&WarningCode::FasterThanGuideline));
        assert!(codes.contains(&WarningCode::LargeSingleCut));
        assert_eq!(doses(&plan)[..3], [60.0, 30.0, 15.0]);

        // 100% at once from more than one unit: an abrupt stop.
        let stop = generate(&request(
            30.0,
            5.0,
            Some(1.5),
            Rule::Custom {
                reduction_percent: 100.0,
                step_days: 7,
            },
        ))
        .unwrap();
        assert!(
            stop.warnings
                .iter()
                .any(|w| w.code == WarningCode::AbruptStop)
        );

        // A gentle custom plan with a long follow-up gap warns only for that.
        let mut gentle = request(
            60.0,
            5.0,
            Some(1.5),
            Rule::Custom {
                reduction_percent: 5.0,
                step_days: 28,
            },
        );
        gentle.follow_up_every_days = 45;
        let plan = generate(&gentle).unwrap();
        let codes: Vec<_> = plan.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, [WarningCode::FollowUpGap]);
    }

    #[test]
    fn bad_requests_name_their_field() {
        let mut r = request(-5.0, 5.0, None, Rule::CdcLongTerm);
        assert_eq!(generate(&r).unwrap_err().field, "startingDailyDose");
        r.starting_daily_dose = 62.0;
        assert_eq!(
            generate(&r).unwrap_err().field,
            "startingDailyDose",
            "whole units"
        );
        r.starting_daily_dose = 60.0;
        r.target_daily_dose = 70.0;
        assert_eq!(generate(&r).unwrap_err().field, "targetDailyDose");
        r.target_daily_dose = 0.0;
        r.follow_up_every_days = 60;
        assert_eq!(generate(&r).unwrap_err().field, "followUpEveryDays");
        let custom = request(
            60.0,
            5.0,
            None,
            Rule::Custom {
                reduction_percent: 0.0,
                step_days: 7,
            },
        );
        assert_eq!(generate(&custom).unwrap_err().field, "reductionPercent");
    }

    #[test]
    fn a_target_above_zero_is_where_the_plan_ends() {
        let mut r = request(60.0, 5.0, Some(1.5), Rule::CdcLongTerm);
        r.target_daily_dose = 20.0;
        let plan = generate(&r).unwrap();
        assert_eq!(doses(&plan).last(), Some(&20.0));
        assert!(doses(&plan).iter().all(|d| *d >= 20.0));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn rules() -> impl Strategy<Value = Rule> {
            prop_oneof![
                Just(Rule::CdcLongTerm),
                Just(Rule::CdcShortTerm),
                (1.0f64..=100.0, 1u32..=60).prop_map(|(p, d)| Rule::Custom {
                    reduction_percent: p,
                    step_days: d,
                }),
            ]
        }

        fn units() -> impl Strategy<Value = f64> {
            prop_oneof![
                Just(2.0),
                Just(5.0),
                Just(7.5),
                Just(12.0),
                Just(15.0),
                Just(50.0)
            ]
        }

        proptest! {
            #[test]
            fn plans_are_well_formed(
                units_at_start in 1u32..=80,
                unit in units(),
                rule in rules(),
                follow_up in 1u32..=30,
            ) {
                let start = f64::from(units_at_start) * unit;
                let mut r = request(start, unit, Some(1.5), rule);
                r.follow_up_every_days = follow_up;
                let plan = generate(&r).unwrap();
                let steps = &plan.steps;
                prop_assert_eq!(steps[0].daily_dose, start);
                prop_assert_eq!(steps.last().unwrap().daily_dose, 0.0);
                for pair in steps.windows(2) {
                    // Doses never rise; dates are contiguous.
                    prop_assert!(pair[1].daily_dose <= pair[0].daily_dose);
                    prop_assert_eq!(pair[1].starts_on, pair[0].ends_on + Duration::days(1));
                    // Whole units.
                    let cut = (pair[0].daily_dose - pair[1].daily_dose) / unit;
                    prop_assert!((cut - cut.round()).abs() < 1e-6, "cut {} units", cut);
                    prop_assert!(cut.round() >= 1.0);
                }
                for s in steps {
                    prop_assert!(s.ends_on >= s.starts_on);
                }
                if rule.is_preset() {
                    prop_assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
                } else {
                    // A custom plan warns iff one of the listed rules fires.
                    let expected = check_guideline(&r, steps);
                    prop_assert_eq!(&plan.warnings, &expected);
                }
            }
        }
    }
}
