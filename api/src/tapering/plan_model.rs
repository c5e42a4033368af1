//! What a taper plan is made of, shared by the generator (`schedule`) and
//! the guideline checks (`guideline`): the request, the rule, the steps and
//! the warnings. Pure, no database, no async.

use chrono::NaiveDate;

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

/// What the generator needs to know about the medication (from the
/// catalog) and, for MOUD, about the patient's orders of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drug {
    /// The listed strengths, ascending; the first is one unit.
    pub strengths: Vec<f64>,
    /// MME conversion factor; `None` where none applies.
    pub mme_factor: Option<f64>,
    /// A transdermal product dosed in mcg/hr (plausibility bound 400
    /// instead of 2,000 mg/day).
    pub per_hour: bool,
    /// The catalog kind is `MOUD` (buprenorphine).
    pub moud: bool,
    /// Methadone (the methadone rule under presets, `METHADONE_PACE`).
    pub methadone: bool,
}

impl Drug {
    /// One unit: the smallest listed strength.
    pub fn unit(&self) -> f64 {
        self.strengths.first().copied().unwrap_or(0.0)
    }

    /// The plausibility bound of a starting dose (CLINICAL.md: 2,000
    /// mg/day; 400 mcg/hr).
    pub fn max_daily_dose(&self) -> f64 {
        if self.per_hour {
            MAX_MCG_PER_HOUR
        } else {
            MAX_MG_PER_DAY
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    /// The patient's current prescription: any positive amount up to the
    /// plausibility bound, dispensable or not.
    pub starting_daily_dose: f64,
    /// 0, or a dispensable dose below the start.
    pub target_daily_dose: f64,
    pub starts_on: NaiveDate,
    pub rule: Rule,
    pub follow_up_every_days: u32,
    pub drug: Drug,
    /// The daily total of the patient's active orders of this medication;
    /// `None` when there are none (nothing to compare with).
    pub regimen_daily_dose: Option<f64>,
    /// The patient has an active order of this medication for opioid use
    /// disorder (indication `OUD`).
    pub oud_order: bool,
}

impl PlanRequest {
    /// The plan is for a medication given for opioid use disorder
    /// (CLINICAL.md): buprenorphine, or methadone with an active OUD order.
    pub fn is_moud(&self) -> bool {
        self.drug.moud || (self.drug.methadone && self.oud_order)
    }
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
    StartsAboveRegimen,
    MethadonePace,
    MoudTaper,
}

crate::stored::stored_enum!(impl WarningCode {
    FasterThanGuideline => "FASTER_THAN_GUIDELINE",
    LargeSingleCut => "LARGE_SINGLE_CUT",
    AbruptStop => "ABRUPT_STOP",
    FollowUpGap => "FOLLOW_UP_GAP",
    StartsAboveRegimen => "STARTS_ABOVE_REGIMEN",
    MethadonePace => "METHADONE_PACE",
    MoudTaper => "MOUD_TAPER",
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

/// Guards against floating-point dust in dose arithmetic.
pub const EPSILON: f64 = 1e-9;
/// CLINICAL.md: "the plausibility bound (2,000 mg/day; 400 mcg/hr)".
pub const MAX_MG_PER_DAY: f64 = 2_000.0;
pub const MAX_MCG_PER_HOUR: f64 = 400.0;
/// Methadone under a preset: steps of at least 14 days (label: 10–14 days).
pub const METHADONE_MIN_DAYS: u32 = 14;

pub(crate) fn err(field: &'static str, message: impl Into<String>) -> InputError {
    InputError::new(field, message)
}
