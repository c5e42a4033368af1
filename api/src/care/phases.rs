//! Programs and the enrollment phase machine: pure rules, no database.
//!
//! A program is delivered in one modality and lasts from one week to two
//! years; an enrollment is expected to end that many weeks after it starts.
//! INTAKE → ACTIVE → AFTERCARE → DISCHARGED, forward only. A phase may be
//! skipped (a patient discharged from intake); staying put, going back, or
//! moving a discharged enrollment is `CONFLICT`; a discharge says why.

use chrono::{Days, NaiveDate};

use crate::{error::ApiError, stored::stored_enum};

/// Programs last from one week to two years.
pub const DURATION_WEEKS: std::ops::RangeInclusive<i32> = 1..=104;

// How a program is delivered (a GraphQL enum, stored as its name).
stored_enum!(ProgramModality {
    Outpatient => "OUTPATIENT",
    IntensiveOutpatient => "INTENSIVE_OUTPATIENT",
    Inpatient => "INPATIENT",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Intake,
    Active,
    Aftercare,
    Discharged,
}

stored_enum!(impl Phase {
    Intake => "INTAKE",
    Active => "ACTIVE",
    Aftercare => "AFTERCARE",
    Discharged => "DISCHARGED",
});

impl Phase {
    /// Open enrollments count against "one per patient and program".
    pub fn is_open(self) -> bool {
        self != Self::Discharged
    }

    /// An aftercare plan is written on entering aftercare or at discharge.
    pub fn takes_aftercare_plan(self) -> bool {
        matches!(self, Self::Aftercare | Self::Discharged)
    }
}

/// Why a phase change cannot happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseError {
    /// The enrollment was discharged: it no longer moves.
    Ended,
    /// Already in that phase.
    Unchanged,
    /// The target comes before the current phase.
    Backwards,
    /// Discharging without a reason.
    ReasonRequired,
}

impl PhaseError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Ended => "the enrollment has been discharged",
            Self::Unchanged => "the enrollment is already in that phase",
            Self::Backwards => "an enrollment only moves forward",
            Self::ReasonRequired => "a discharge needs a reason",
        }
    }
}

/// A missing reason is bad input on `reason`; any other refusal is a move
/// the enrollment cannot make now (`CONFLICT`).
impl From<PhaseError> for ApiError {
    fn from(err: PhaseError) -> Self {
        match err {
            PhaseError::ReasonRequired => ApiError::bad_input("reason", err.message()),
            _ => ApiError::conflict(err.message()),
        }
    }
}

/// The phase after moving `from` to `to`, with `has_reason` telling whether
/// a reason was given.
pub fn advance(from: Phase, to: Phase, has_reason: bool) -> Result<Phase, PhaseError> {
    if from == Phase::Discharged {
        return Err(PhaseError::Ended);
    }
    if to == from {
        return Err(PhaseError::Unchanged);
    }
    if to < from {
        return Err(PhaseError::Backwards);
    }
    if to == Phase::Discharged && !has_reason {
        return Err(PhaseError::ReasonRequired);
    }
    Ok(to)
}

/// When a program of `duration_weeks` started on `starts_on` is expected to
/// end: `starts_on` + 7 × weeks days.
pub fn expected_end_on(starts_on: NaiveDate, duration_weeks: u32) -> Option<NaiveDate> {
    starts_on.checked_add_days(Days::new(u64::from(duration_weeks) * 7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    #[test]
    fn phases_move_forward_only() {
        let cases = [
            // (from, to, reason given, result)
            (Intake, Active, false, Ok(Active)),
            (Active, Aftercare, false, Ok(Aftercare)),
            (Aftercare, Discharged, true, Ok(Discharged)),
            (Intake, Aftercare, false, Ok(Aftercare)),
            (Intake, Discharged, true, Ok(Discharged)),
            (Active, Discharged, true, Ok(Discharged)),
            (Active, Intake, true, Err(PhaseError::Backwards)),
            (Aftercare, Active, true, Err(PhaseError::Backwards)),
            (Aftercare, Intake, false, Err(PhaseError::Backwards)),
            (Intake, Intake, false, Err(PhaseError::Unchanged)),
            (Active, Active, true, Err(PhaseError::Unchanged)),
            (
                Aftercare,
                Discharged,
                false,
                Err(PhaseError::ReasonRequired),
            ),
            (Intake, Discharged, false, Err(PhaseError::ReasonRequired)),
            (Discharged, Discharged, true, Err(PhaseError::Ended)),
            (Discharged, Intake, true, Err(PhaseError::Ended)),
            (Discharged, Aftercare, true, Err(PhaseError::Ended)),
        ];
        for (from, to, reason, expected) in cases {
            assert_eq!(advance(from, to, reason), expected, "{from:?} → {to:?}");
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for phase in [Intake, Active, Aftercare, Discharged] {
            assert_eq!(Phase::parse(phase.as_str()), Some(phase));
        }
        assert_eq!(Phase::parse("intake"), None);
        assert!(Active.is_open() && !Discharged.is_open());
        assert!(Aftercare.takes_aftercare_plan() && !Active.takes_aftercare_plan());
        for modality in [
            ProgramModality::Outpatient,
            ProgramModality::IntensiveOutpatient,
            ProgramModality::Inpatient,
        ] {
            assert_eq!(ProgramModality::parse(modality.as_str()), Some(modality));
        }
    }

    #[test]
    fn the_expected_end_is_start_plus_whole_weeks() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        for (starts_on, weeks, ends_on) in [
            ("2026-01-05", 16, "2026-04-27"),
            ("2026-01-05", 1, "2026-01-12"),
            ("2026-12-28", 12, "2027-03-22"),
            ("2028-02-01", 4, "2028-02-29"),
            ("2026-01-01", 104, "2027-12-30"),
        ] {
            assert_eq!(expected_end_on(d(starts_on), weeks), Some(d(ends_on)));
        }
        assert_eq!(expected_end_on(NaiveDate::MAX, 1), None);
    }
}
