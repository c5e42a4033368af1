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

/// A plan as it stands for the dose in effect: its status, steps and pause
/// day, and the regimen's daily dose of its medication (the patient's
/// active orders' total) for the days before its first step.
#[derive(Debug, Clone, Copy)]
pub struct InEffect<'a> {
    pub status: Status,
    pub steps: &'a [Step],
    pub paused_on: Option<NaiveDate>,
    pub regimen: Option<f64>,
}

impl InEffect<'_> {
    /// The daily dose in effect on `day` (CLINICAL.md, "Dates"): the held
    /// dose while paused, the step's once the plan has begun, before its
    /// first step the regimen's (`None` without one).
    pub fn dose_on(&self, day: NaiveDate) -> Option<f64> {
        let day = effective_day(self.status, self.paused_on, day);
        match self.steps.first() {
            Some(first) if day >= first.starts_on => dose_on(self.steps, day),
            _ => self.regimen,
        }
    }
}

/// The first day of a plan activated on `today` (the patient's day): the
/// later of its `startsOn` and the activation day.
pub fn activation_start(starts_on: NaiveDate, today: NaiveDate) -> NaiveDate {
    starts_on.max(today)
}

/// Moves every step by the same number of days so that step 1 starts on
/// `start` (a plan is never moved back); returns the days moved.
pub fn redate(steps: &mut [Step], start: NaiveDate) -> i64 {
    let Some(first) = steps.first() else {
        return 0;
    };
    let days = (start - first.starts_on).num_days().max(0);
    let shift = Duration::days(days);
    for step in steps.iter_mut() {
        step.starts_on += shift;
        step.ends_on += shift;
    }
    days
}

/// A revision's steps never above `dose` (the dose in effect when it is
/// activated): steps above it hold it instead, and steps left at the same
/// dose merge, so the plan starts at `dose` and is slower, never faster.
pub fn cap_at(steps: &[Step], dose: f64) -> Vec<Step> {
    let mut capped: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        let daily_dose = step.daily_dose.min(dose);
        let daily_mme = step.daily_mme.map(|mme| {
            if step.daily_dose > 0.0 {
                mme * daily_dose / step.daily_dose
            } else {
                mme
            }
        });
        match capped.last_mut() {
            Some(last) if last.daily_dose == daily_dose => last.ends_on = step.ends_on,
            _ => capped.push(Step {
                index: capped.len() as u32,
                starts_on: step.starts_on,
                ends_on: step.ends_on,
                daily_dose,
                daily_mme,
            }),
        }
    }
    capped
}

/// Where a revision written `today` starts, as (daily dose, first day),
/// never above the dose in effect: a draft keeps its start (but no further
/// back than a new plan may start) and its dose, lowered to the dose its
/// original (`original`, a plan in effect it revises) has today; a plan in
/// effect starts today from the dose it holds today.
pub fn revision_start(
    plan: InEffect<'_>,
    starting_daily_dose: f64,
    starts_on: NaiveDate,
    original: Option<InEffect<'_>>,
    today: NaiveDate,
) -> (f64, NaiveDate) {
    let lower = |dose: f64, cap: Option<f64>| cap.map_or(dose, |cap| dose.min(cap));
    match plan.status {
        Status::Draft => (
            lower(starting_daily_dose, original.and_then(|o| o.dose_on(today))),
            starts_on.max(schedule::earliest_start(today)),
        ),
        _ => (lower(starting_daily_dose, plan.dose_on(today)), today),
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

    fn in_effect<'a>(status: Status, steps: &'a [Step], paused_on: Option<&str>) -> InEffect<'a> {
        InEffect {
            status,
            steps,
            paused_on: paused_on.map(d),
            regimen: Some(70.0),
        }
    }

    #[test]
    fn a_revision_starts_from_where_the_plan_is() {
        // CLINICAL.md, "Dates": "A revision starts at the dose in effect on
        // its activation day, never above it."
        let s = steps();
        let today = d("2026-02-01");
        let cases = [
            // (plan, original, expected)
            (in_effect(Status::Active, &s, None), None, (55.0, today)),
            (
                in_effect(Status::Paused, &s, Some("2026-01-20")),
                None,
                (60.0, today),
            ),
            (
                in_effect(Status::Draft, &s, None),
                None,
                (60.0, d("2026-01-25")),
            ),
            (
                in_effect(Status::Draft, &s, None),
                Some(in_effect(Status::Active, &s, None)),
                (55.0, d("2026-01-25")),
            ),
        ];
        for (plan, original, expected) in cases {
            assert_eq!(
                revision_start(plan, 60.0, d("2026-01-01"), original, today),
                expected,
                "{:?} revising {:?}",
                plan.status,
                original.map(|o| o.status)
            );
        }
        // Before its first step a plan in effect holds the regimen's dose,
        // and a revision never starts above the plan's own start either.
        let later: Vec<Step> = steps()
            .into_iter()
            .map(|mut st| {
                st.starts_on += Duration::days(60);
                st.ends_on += Duration::days(60);
                st
            })
            .collect();
        let mut plan = in_effect(Status::Active, &later, None);
        plan.regimen = Some(50.0);
        assert_eq!(
            revision_start(plan, 60.0, d("2026-03-02"), None, today),
            (50.0, today)
        );
        plan.regimen = None;
        assert_eq!(
            revision_start(plan, 60.0, d("2026-03-02"), None, today),
            (60.0, today)
        );
    }

    #[test]
    fn the_dose_in_effect_day_by_day() {
        // CLINICAL.md, "Dates": the held dose while paused; before the first
        // step the regimen's (the patient's active orders' daily total).
        let s = steps();
        let cases = [
            (Status::Active, None, "2025-12-31", Some(70.0)),
            (Status::Active, None, "2026-01-01", Some(60.0)),
            (Status::Active, None, "2026-02-10", Some(55.0)),
            (Status::Active, None, "2026-09-01", Some(0.0)),
            (Status::Paused, Some("2026-02-10"), "2026-03-01", Some(55.0)),
            (Status::Paused, Some("2025-12-20"), "2026-03-01", Some(70.0)),
        ];
        for (status, paused_on, day, expected) in cases {
            assert_eq!(
                in_effect(status, &s, paused_on).dose_on(d(day)),
                expected,
                "{status:?} {paused_on:?} {day}"
            );
        }
        let mut none = in_effect(Status::Active, &s, None);
        none.regimen = None;
        assert_eq!(none.dose_on(d("2025-12-31")), None, "no regimen: null");
    }

    #[test]
    fn activation_redates_to_the_later_of_start_and_activation_day() {
        // CLINICAL.md, "Dates": "step 1 starts on the later of `startsOn`
        // and the activation day … a plan agreed in January and activated
        // in February never begins mid-schedule".
        let cases = [
            // (startsOn, activated on, step 1 starts)
            ("2026-01-01", "2026-02-10", "2026-02-10"),
            ("2026-01-01", "2026-01-01", "2026-01-01"),
            ("2026-03-01", "2026-02-10", "2026-03-01"),
        ];
        for (starts_on, today, expected) in cases {
            let start = activation_start(d(starts_on), d(today));
            assert_eq!(start, d(expected), "{starts_on} activated {today}");
            let mut s = steps();
            let moved = redate(&mut s, start);
            assert_eq!(s[0].starts_on, d(expected));
            assert_eq!(moved, (d(expected) - d("2026-01-01")).num_days());
            for (before, after) in steps().iter().zip(&s) {
                assert_eq!(
                    (after.ends_on - after.starts_on),
                    (before.ends_on - before.starts_on)
                );
                assert_eq!(after.daily_dose, before.daily_dose);
            }
            for pair in s.windows(2) {
                assert_eq!(pair[1].starts_on, pair[0].ends_on + Duration::days(1));
            }
            assert!(!is_finished(&s, d(today)), "never completes on the spot");
            assert_eq!(dose_on(&s, d(today)).is_some(), d(today) >= s[0].starts_on);
        }
        let mut s = steps();
        assert_eq!(redate(&mut s, d("2025-12-01")), 0, "never moved back");
        assert_eq!(s[0].starts_on, d("2026-01-01"));
    }

    #[test]
    fn a_capped_revision_holds_the_dose_in_effect_then_follows_its_steps() {
        // CLINICAL.md, "Dates": a revision is never above the dose in effect.
        let s = steps(); // 60, 55, 0
        let capped = cap_at(&s, 57.0);
        let doses: Vec<f64> = capped.iter().map(|st| st.daily_dose).collect();
        assert_eq!(doses, [57.0, 55.0, 0.0]);
        assert_eq!(capped[0].daily_mme, Some(57.0 * 1.5));
        let merged = cap_at(&s, 50.0);
        let shape: Vec<(u32, NaiveDate, NaiveDate, f64)> = merged
            .iter()
            .map(|st| (st.index, st.starts_on, st.ends_on, st.daily_dose))
            .collect();
        assert_eq!(
            shape,
            [
                (0, d("2026-01-01"), d("2026-02-25"), 50.0),
                (1, d("2026-02-26"), d("2026-03-25"), 0.0)
            ],
            "steps at the held dose merge; the calendar is unchanged"
        );
        let same = cap_at(&s, 80.0);
        assert_eq!(same.len(), 3, "a lower revision is kept as written");
        assert_eq!(same[0].daily_dose, 60.0);
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
