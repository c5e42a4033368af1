//! The taper plan lifecycle and its calendar: pure rules, no database.
//!
//! DRAFT → (patient agrees) → ACTIVE ⇄ PAUSED → COMPLETED when the last step
//! ends; a revision supersedes a plan with a new version. Any other move is
//! `CONFLICT`. A pause holds the dose of the day it began and, on resume,
//! shifts every later step by the pause's length.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::schedule::{self, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Active,
    Paused,
    Completed,
    Cancelled,
}

crate::stored::stored_enum!(impl Status {
    Draft => "DRAFT",
    Active => "ACTIVE",
    Paused => "PAUSED",
    Completed => "COMPLETED",
    Cancelled => "CANCELLED",
});

/// What a plan's history records (`TaperPlan.history`): one per transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Agreed,
    Activated,
    Paused,
    Resumed,
    /// The version was replaced by a newer one.
    Revised,
    /// An original cancelled when its revision was activated.
    Superseded,
    Completed,
}

crate::stored::stored_enum!(impl EventKind {
    Created => "CREATED",
    Agreed => "AGREED",
    Activated => "ACTIVATED",
    Paused => "PAUSED",
    Resumed => "RESUMED",
    Revised => "REVISED",
    Superseded => "SUPERSEDED",
    Completed => "COMPLETED",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Agree,
    Activate,
    Pause,
    Resume,
    Revise,
}

/// The status after `action`, or why it cannot happen now.
pub fn transition(status: Status, agreed: bool, action: Action) -> Result<Status, &'static str> {
    use Status::*;
    match (status, action) {
        (Draft, Action::Agree) => Ok(Draft),
        (Draft, Action::Activate) if agreed => Ok(Active),
        (Draft, Action::Activate) => Err("the patient has not agreed to this plan yet"),
        (Active, Action::Pause) => Ok(Paused),
        (Paused, Action::Resume) => Ok(Active),
        (Draft | Active | Paused, Action::Revise) => Ok(status),
        (Active | Paused, Action::Agree) => Err("the plan is already in effect"),
        (Active, Action::Activate) => Err("the plan is already active"),
        (Paused, Action::Activate) => Err("the plan is paused: resume it instead"),
        (Active, Action::Resume) => Err("the plan is not paused"),
        (Draft, Action::Pause | Action::Resume) => Err("the plan is not active yet"),
        (Paused, Action::Pause) => Err("the plan is already paused"),
        (Completed | Cancelled, _) => Err("the plan has ended"),
    }
}

/// "Today" for someone in time zone `tz` (an IANA name).
pub fn today_in(tz: &str, now: DateTime<Utc>) -> NaiveDate {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// The step in effect on `day`.
pub fn step_on(steps: &[Step], day: NaiveDate) -> Option<&Step> {
    steps
        .iter()
        .find(|s| s.starts_on <= day && day <= s.ends_on)
}

/// The day the plan is read for: the pause day while paused (its dose is
/// held), else `today`.
pub fn effective_day(status: Status, paused_on: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    match (status, paused_on) {
        (Status::Paused, Some(paused_on)) => paused_on.min(today),
        _ => today,
    }
}

/// The daily dose due on `day`: before the first step nothing is scheduled
/// by the plan; after the last, its target.
pub fn dose_on(steps: &[Step], day: NaiveDate) -> Option<f64> {
    let first = steps.first()?;
    let last = steps.last()?;
    if day < first.starts_on {
        None
    } else if day > last.ends_on {
        Some(last.daily_dose)
    } else {
        step_on(steps, day).map(|s| s.daily_dose)
    }
}

/// Shifts the calendar after a pause from `paused_on` to `resumed_on`: the
/// step in effect when it began grows by the pause, later steps move.
pub fn shift_for_pause(steps: &mut [Step], paused_on: NaiveDate, resumed_on: NaiveDate) {
    let days = (resumed_on - paused_on).num_days().max(0);
    if days == 0 {
        return;
    }
    let shift = Duration::days(days);
    for step in steps.iter_mut() {
        if step.starts_on > paused_on {
            step.starts_on += shift;
            step.ends_on += shift;
        } else if step.ends_on >= paused_on {
            step.ends_on += shift;
        }
    }
}

/// Where a revision written `today` starts, as (daily dose, first day): a
/// draft keeps its dose and start (but no further back than a new plan
/// may start); a plan in effect starts today from the dose it holds today.
pub fn revision_start(
    status: Status,
    steps: &[Step],
    paused_on: Option<NaiveDate>,
    starting_daily_dose: f64,
    starts_on: NaiveDate,
    today: NaiveDate,
) -> (f64, NaiveDate) {
    match status {
        Status::Draft => (
            starting_daily_dose,
            starts_on.max(schedule::earliest_start(today)),
        ),
        _ => {
            let day = effective_day(status, paused_on, today);
            (dose_on(steps, day).unwrap_or(starting_daily_dose), today)
        }
    }
}

/// True when an active plan's last step has ended by `today`.
pub fn is_finished(steps: &[Step], today: NaiveDate) -> bool {
    steps.last().is_some_and(|last| today > last.ends_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn steps() -> Vec<Step> {
        [
            ("2026-01-01", "2026-01-28", 60.0),
            ("2026-01-29", "2026-02-25", 55.0),
            ("2026-02-26", "2026-03-25", 0.0),
        ]
        .iter()
        .enumerate()
        .map(|(i, (a, b, dose))| Step {
            index: i as u32,
            starts_on: d(a),
            ends_on: d(b),
            daily_dose: *dose,
            daily_mme: Some(dose * 1.5),
        })
        .collect()
    }

    #[test]
    fn only_the_listed_transitions_exist() {
        use Action::*;
        use Status::*;
        assert_eq!(transition(Draft, false, Agree), Ok(Draft));
        assert!(
            transition(Draft, false, Activate).is_err(),
            "needs agreement"
        );
        assert_eq!(transition(Draft, true, Activate), Ok(Active));
        assert_eq!(transition(Active, true, Pause), Ok(Paused));
        assert_eq!(transition(Paused, true, Resume), Ok(Active));
        assert_eq!(transition(Active, true, Revise), Ok(Active));
        for (status, action) in [
            (Draft, Pause),
            (Draft, Resume),
            (Active, Activate),
            (Active, Resume),
            (Paused, Pause),
            (Paused, Activate),
            (Completed, Revise),
            (Cancelled, Agree),
        ] {
            assert!(
                transition(status, true, action).is_err(),
                "{status:?} {action:?}"
            );
        }
    }

    #[test]
    fn a_revision_starts_from_where_the_plan_is() {
        let s = steps();
        let today = d("2026-02-01");
        assert_eq!(
            revision_start(Status::Active, &s, None, 60.0, d("2026-01-01"), today),
            (55.0, today)
        );
        assert_eq!(
            revision_start(
                Status::Paused,
                &s,
                Some(d("2026-01-20")),
                60.0,
                d("2026-01-01"),
                today
            ),
            (60.0, today),
            "a paused plan holds the pause day's dose"
        );
        assert_eq!(
            revision_start(Status::Draft, &s, None, 60.0, d("2026-01-01"), today),
            (60.0, d("2026-01-25")),
            "a draft keeps its start, at most a week back"
        );
    }

    #[test]
    fn stored_forms_round_trip() {
        for status in [
            Status::Draft,
            Status::Active,
            Status::Paused,
            Status::Completed,
            Status::Cancelled,
        ] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(EventKind::parse("SUPERSEDED"), Some(EventKind::Superseded));
        assert_eq!(Status::parse("LIVE"), None);
    }

    #[test]
    fn today_is_the_patients_day() {
        let late_evening_chicago: DateTime<Utc> = "2026-03-02T03:30:00Z".parse().unwrap();
        assert_eq!(
            today_in("America/Chicago", late_evening_chicago),
            d("2026-03-01")
        );
        assert_eq!(
            today_in("Asia/Tokyo", late_evening_chicago),
            d("2026-03-02")
        );
    }

    #[test]
    fn doses_on_days() {
        let s = steps();
        assert_eq!(dose_on(&s, d("2025-12-31")), None);
        assert_eq!(dose_on(&s, d("2026-01-28")), Some(60.0));
        assert_eq!(dose_on(&s, d("2026-01-29")), Some(55.0));
        assert_eq!(dose_on(&s, d("2026-06-01")), Some(0.0));
    }

    #[test]
    fn a_pause_holds_the_dose_and_shifts_later_steps() {
        let mut s = steps();
        let paused = d("2026-02-10");
        assert_eq!(
            effective_day(Status::Paused, Some(paused), d("2026-02-20")),
            paused
        );
        shift_for_pause(&mut s, paused, d("2026-02-20"));
        assert_eq!(s[0].ends_on, d("2026-01-28"), "earlier steps stay");
        assert_eq!(
            s[1].ends_on,
            d("2026-03-07"),
            "the current step grows by 10 days"
        );
        assert_eq!(s[2].starts_on, d("2026-03-08"));
        assert_eq!(s[2].ends_on, d("2026-04-04"));
        for pair in s.windows(2) {
            assert_eq!(pair[1].starts_on, pair[0].ends_on + Duration::days(1));
        }
    }
}
