//! The enrollment phase machine and a program's calendar: pure rules, no
//! database.
//!
//! INTAKE → ACTIVE → AFTERCARE → DISCHARGED, forward only. A phase may be
//! skipped (a patient discharged from intake); staying put, going back, or
//! moving a discharged enrollment is `CONFLICT`; a discharge says why.

use chrono::{Days, NaiveDate};

/// Programs last from one week to two years.
pub const DURATION_WEEKS: std::ops::RangeInclusive<i32> = 1..=104;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Intake,
    Active,
    Aftercare,
    Discharged,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intake => "INTAKE",
            Self::Active => "ACTIVE",
            Self::Aftercare => "AFTERCARE",
            Self::Discharged => "DISCHARGED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "INTAKE" => Self::Intake,
            "ACTIVE" => Self::Active,
            "AFTERCARE" => Self::Aftercare,
            "DISCHARGED" => Self::Discharged,
            _ => return None,
        })
    }

    /// Open enrollments count against "one per patient and program".
    pub fn is_open(self) -> bool {
        self != Self::Discharged
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
