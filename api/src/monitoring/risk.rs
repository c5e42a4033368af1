//! The clinician's overview, ranked: a patient's risk score and the orders
//! `careTeamOverview` can sort by. Pure: no database, no async.
//!
//! Risk = 3 per open (unresolved) alert + the latest withdrawal band (0 none
//! … 4 severe) + 1 when 7-day adherence is under 80% + 1 when there has been
//! no check-in for 3 days.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::scales::Severity;

/// Points per open alert.
pub const OPEN_ALERT_WEIGHT: i32 = 3;
/// 7-day adherence below this adds a point.
pub const ADHERENCE_FLOOR: f64 = 0.8;
/// No check-in for longer than this adds a point.
pub const QUIET_DAYS: i64 = 3;

#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CareTeamOverviewSort {
    /// Highest risk first (default).
    #[default]
    Risk,
    /// Longest without a check-in first.
    LastCheckIn,
    /// By display name.
    Name,
}

/// What a patient's risk is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    pub open_alerts: i64,
    pub severity: Option<Severity>,
    /// 0..1, taken versus scheduled over the last 7 days.
    pub adherence_7d: Option<f64>,
    pub last_check_in_at: Option<DateTime<Utc>>,
}

/// 0 for no band (or none on record) up to 4 for severe.
pub fn severity_weight(severity: Option<Severity>) -> i32 {
    match severity {
        None | Some(Severity::None) => 0,
        Some(Severity::Mild) => 1,
        Some(Severity::Moderate) => 2,
        Some(Severity::ModeratelySevere) => 3,
        Some(Severity::Severe) => 4,
    }
}

/// Higher is more urgent.
pub fn score(figures: &Figures, now: DateTime<Utc>) -> i32 {
    let quiet = figures
        .last_check_in_at
        .is_none_or(|at| now - at > Duration::days(QUIET_DAYS));
    OPEN_ALERT_WEIGHT * figures.open_alerts as i32
        + severity_weight(figures.severity)
        + i32::from(figures.adherence_7d.is_some_and(|a| a < ADHERENCE_FLOOR))
        + i32::from(quiet)
}

/// What ordering a row of the overview needs.
pub trait Ranked {
    fn risk(&self) -> i32;
    fn name(&self) -> &str;
    fn patient_id(&self) -> Uuid;
    fn last_check_in_at(&self) -> Option<DateTime<Utc>>;
}

/// Orders two rows by `sort`; ties go by name, then by patient id, so pages
/// are stable.
pub fn compare(sort: CareTeamOverviewSort, a: &impl Ranked, b: &impl Ranked) -> Ordering {
    match sort {
        CareTeamOverviewSort::Risk => b
            .risk()
            .cmp(&a.risk())
            .then_with(|| a.name().cmp(b.name()))
            .then(a.patient_id().cmp(&b.patient_id())),
        // Never checked in (`None`) sorts first.
        CareTeamOverviewSort::LastCheckIn => a
            .last_check_in_at()
            .cmp(&b.last_check_in_at())
            .then(a.patient_id().cmp(&b.patient_id())),
        CareTeamOverviewSort::Name => a
            .name()
            .cmp(b.name())
            .then(a.patient_id().cmp(&b.patient_id())),
    }
}

pub fn sort<T: Ranked>(rows: &mut [T], sort: CareTeamOverviewSort) {
    rows.sort_by(|a, b| compare(sort, a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-10T12:00:00Z".parse().unwrap()
    }

    fn ago(days: i64, hours: i64) -> Option<DateTime<Utc>> {
        Some(now() - Duration::days(days) - Duration::hours(hours))
    }

    #[test]
    fn risk_adds_alerts_band_adherence_and_silence() {
        let recent = ago(0, 1);
        let cases = [
            (
                Figures {
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                0,
            ),
            (Figures::default(), 1),
            (
                Figures {
                    last_check_in_at: ago(3, 0),
                    ..Figures::default()
                },
                0,
            ),
            (
                Figures {
                    last_check_in_at: ago(3, 1),
                    ..Figures::default()
                },
                1,
            ),
            (
                Figures {
                    open_alerts: 2,
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                6,
            ),
            (
                Figures {
                    severity: Some(Severity::None),
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                0,
            ),
            (
                Figures {
                    severity: Some(Severity::Moderate),
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                2,
            ),
            (
                Figures {
                    adherence_7d: Some(0.79),
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                1,
            ),
            (
                Figures {
                    adherence_7d: Some(0.8),
                    last_check_in_at: recent,
                    ..Figures::default()
                },
                0,
            ),
            (
                Figures {
                    open_alerts: 1,
                    severity: Some(Severity::Severe),
                    adherence_7d: Some(0.5),
                    last_check_in_at: None,
                },
                9,
            ),
        ];
        for (figures, risk) in cases {
            assert_eq!(score(&figures, now()), risk, "{figures:?}");
        }
    }

    #[test]
    fn every_band_has_its_weight() {
        let cases = [
            (None, 0),
            (Some(Severity::None), 0),
            (Some(Severity::Mild), 1),
            (Some(Severity::Moderate), 2),
            (Some(Severity::ModeratelySevere), 3),
            (Some(Severity::Severe), 4),
        ];
        for (band, weight) in cases {
            assert_eq!(severity_weight(band), weight, "{band:?}");
        }
    }

    struct Row(i32, &'static str, u128, Option<DateTime<Utc>>);

    impl Ranked for Row {
        fn risk(&self) -> i32 {
            self.0
        }
        fn name(&self) -> &str {
            self.1
        }
        fn patient_id(&self) -> Uuid {
            Uuid::from_u128(self.2)
        }
        fn last_check_in_at(&self) -> Option<DateTime<Utc>> {
            self.3
        }
    }

    fn sorted(by: CareTeamOverviewSort) -> Vec<u128> {
        let mut rows = vec![
            Row(2, "Bea", 1, ago(1, 0)),
            Row(5, "Cal", 2, None),
            Row(2, "Ada", 3, ago(5, 0)),
            Row(2, "Ada", 4, ago(1, 0)),
        ];
        sort(&mut rows, by);
        rows.iter().map(|r| r.2).collect()
    }

    #[test]
    fn sorts_by_risk_then_name_then_id() {
        assert_eq!(sorted(CareTeamOverviewSort::Risk), [2, 3, 4, 1]);
    }

    #[test]
    fn sorts_by_last_check_in_never_first_then_id() {
        assert_eq!(sorted(CareTeamOverviewSort::LastCheckIn), [2, 3, 1, 4]);
    }

    #[test]
    fn sorts_by_name_then_id() {
        assert_eq!(sorted(CareTeamOverviewSort::Name), [3, 4, 1, 2]);
    }
}
