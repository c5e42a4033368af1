//! Dose adherence (CLINICAL.md): for a day, the logged amount ÷ the
//! scheduled daily dose, capped at 1; the excess is what the
//! over-schedule alert sees.
//!
//! Transdermal products (mcg/hr) are read differently: a dose log is a patch
//! application covering 72 hours (a replacement for a patch that fell off
//! ends the patch it replaces); a day's adherence is the share of its hours
//! (in the patient's time zone) covered at the scheduled rate, and it is
//! over schedule when the patches on at one moment add up to more.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// One day's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayAdherence {
    /// Taken ÷ scheduled, capped at 1; `None` when nothing was scheduled.
    pub adherence: Option<f64>,
    /// More was taken than scheduled.
    pub over_schedule: bool,
}

/// Amounts closer than this are equal (floating-point dust).
pub const EPSILON: f64 = 1e-9;

pub fn day(scheduled: Option<f64>, taken: f64) -> DayAdherence {
    match scheduled {
        None => DayAdherence {
            adherence: None,
            over_schedule: false,
        },
        Some(s) if s <= EPSILON => DayAdherence {
            adherence: Some(if taken <= EPSILON { 1.0 } else { 0.0 }),
            over_schedule: taken > EPSILON,
        },
        Some(s) => DayAdherence {
            adherence: Some((taken / s).min(1.0)),
            over_schedule: taken > s + EPSILON,
        },
    }
}

/// Mean adherence over the days that had a schedule.
pub fn mean(days: &[DayAdherence]) -> Option<f64> {
    let values: Vec<f64> = days.iter().filter_map(|d| d.adherence).collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// How long an applied patch delivers its rate.
pub const PATCH_HOURS: i64 = 72;

/// A logged patch application.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patch {
    pub applied_at: DateTime<Utc>,
    /// mcg/hr.
    pub rate: f64,
    /// It replaces a patch that fell off (which it ends).
    pub replaces: bool,
}

/// A patch's time on: `[from, until)` at `rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchOn {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub rate: f64,
}

/// When each patch is on: 72 hours from its application, unless a
/// replacement ends it first (a replacement ends the latest patch applied
/// before it that is still on).
pub fn patches_on(patches: &[Patch]) -> Vec<PatchOn> {
    let mut sorted = patches.to_vec();
    sorted.sort_by_key(|p| p.applied_at);
    let mut on: Vec<PatchOn> = Vec::with_capacity(sorted.len());
    for patch in sorted {
        if patch.replaces
            && let Some(replaced) = on
                .iter_mut()
                .rev()
                .find(|o| o.from <= patch.applied_at && o.until > patch.applied_at)
        {
            replaced.until = patch.applied_at;
        }
        on.push(PatchOn {
            from: patch.applied_at,
            until: patch.applied_at + Duration::hours(PATCH_HOURS),
            rate: patch.rate,
        });
    }
    on
}

/// Over `[from, to)`: the share of the time covered at `scheduled` (no patch
/// on counts as covered when nothing is scheduled), and the highest rate on
/// at one moment.
pub fn patch_coverage(
    on: &[PatchOn],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scheduled: f64,
) -> (f64, f64) {
    if to <= from {
        return (0.0, 0.0);
    }
    let mut cuts: Vec<DateTime<Utc>> = vec![from, to];
    for o in on {
        for t in [o.from, o.until] {
            if from < t && t < to {
                cuts.push(t);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let (mut covered, mut peak) = (Duration::zero(), 0.0f64);
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let rate: f64 = on
            .iter()
            .filter(|o| o.from <= a && o.until > a)
            .map(|o| o.rate)
            .sum();
        peak = peak.max(rate);
        let at_schedule = if scheduled <= EPSILON {
            rate <= EPSILON
        } else {
            rate >= scheduled - EPSILON
        };
        if at_schedule {
            covered += b - a;
        }
    }
    // To the millisecond: a phone's clock is no finer.
    let share = covered.num_milliseconds() as f64 / (to - from).num_milliseconds() as f64;
    (share, peak)
}

/// The instants a day begins and ends in time zone `tz` (an IANA name;
/// anything else reads as UTC, as `lifecycle::today_in` does).
pub fn day_bounds(tz: &str, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        match tz.parse::<chrono_tz::Tz>() {
            Ok(zone) => zone
                .from_local_datetime(&midnight)
                .earliest()
                .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
            Err(_) => midnight.and_utc(),
        }
    };
    (start(day), start(day + Duration::days(1)))
}

/// A transdermal day's figures: the share of its hours covered at the
/// scheduled rate, over schedule when the patches on at once exceed it.
pub fn patch_day(
    scheduled: Option<f64>,
    on: &[PatchOn],
    bounds: (DateTime<Utc>, DateTime<Utc>),
) -> DayAdherence {
    match scheduled {
        None => DayAdherence {
            adherence: None,
            over_schedule: false,
        },
        Some(s) => {
            let (share, peak) = patch_coverage(on, bounds.0, bounds.1, s);
            DayAdherence {
                adherence: Some(share),
                over_schedule: peak > s + EPSILON,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adherence_table() {
        let cases = [
            (Some(60.0), 60.0, Some(1.0), false),
            (Some(60.0), 30.0, Some(0.5), false),
            (Some(60.0), 75.0, Some(1.0), true),
            (Some(0.0), 0.0, Some(1.0), false),
            (Some(0.0), 5.0, Some(0.0), true),
            (None, 10.0, None, false),
        ];
        for (scheduled, taken, adherence, over) in cases {
            let got = day(scheduled, taken);
            assert_eq!(got.adherence, adherence, "{scheduled:?} {taken}");
            assert_eq!(got.over_schedule, over, "{scheduled:?} {taken}");
        }
        assert_eq!(
            mean(&[day(Some(10.0), 10.0), day(Some(10.0), 5.0), day(None, 0.0)]),
            Some(0.75)
        );
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn patch(applied: &str, rate: f64, replaces: bool) -> Patch {
        Patch {
            applied_at: at(applied),
            rate,
            replaces,
        }
    }

    #[test]
    fn patches_every_72_hours_cover_every_day() {
        // CLINICAL.md: "an applied patch covers 72 hours. Adherence for a day
        // is the share of its hours covered at the scheduled rate".
        let patches: Vec<Patch> = (0..5)
            .map(|i| Patch {
                applied_at: at("2026-03-01T08:00:00Z") + Duration::hours(72 * i),
                rate: 25.0,
                replaces: false,
            })
            .collect();
        let on = patches_on(&patches);
        for day in 2..=14 {
            let day = NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
            let figures = patch_day(Some(25.0), &on, day_bounds("America/Chicago", day));
            assert_eq!(figures.adherence, Some(1.0), "{day}");
            assert!(!figures.over_schedule, "{day}");
        }
        // The first day is covered from 08:00 UTC (02:00 in Chicago).
        let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let figures = patch_day(Some(25.0), &on, day_bounds("America/Chicago", first));
        assert!((figures.adherence.unwrap() - 22.0 / 24.0).abs() < 1e-9);
        // A missed change: day 4 ends the patch at 08:00 UTC with no new one.
        let gap = patches_on(&patches[..1]);
        let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        let figures = patch_day(Some(25.0), &gap, day_bounds("UTC", day));
        assert!((figures.adherence.unwrap() - 8.0 / 24.0).abs() < 1e-9);
    }

    #[test]
    fn a_replacement_is_not_over_schedule_but_two_patches_at_once_are() {
        // CLINICAL.md: "DOSE_ABOVE_SCHEDULE fires when the patches on at one
        // moment add up to more than the scheduled rate (a replacement for
        // a patch that fell off, logged as such, does not)".
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let bounds = day_bounds("UTC", day);
        let replaced = patches_on(&[
            patch("2026-03-01T08:00:00Z", 25.0, false),
            patch("2026-03-02T10:00:00Z", 25.0, true),
        ]);
        assert_eq!(replaced[0].until, at("2026-03-02T10:00:00Z"));
        let figures = patch_day(Some(25.0), &replaced, bounds);
        assert_eq!(figures.adherence, Some(1.0));
        assert!(!figures.over_schedule);

        let doubled = patches_on(&[
            patch("2026-03-01T08:00:00Z", 25.0, false),
            patch("2026-03-02T10:00:00Z", 25.0, false),
        ]);
        assert!(patch_day(Some(25.0), &doubled, bounds).over_schedule);
        assert_eq!(patch_coverage(&doubled, bounds.0, bounds.1, 25.0).1, 50.0);

        // A weaker patch than scheduled does not cover the hours.
        let weak = patches_on(&[patch("2026-03-01T08:00:00Z", 12.5, false)]);
        assert_eq!(patch_day(Some(25.0), &weak, bounds).adherence, Some(0.0));
        // Nothing scheduled (the taper reached 0) and no patch on: adherent.
        assert_eq!(patch_day(Some(0.0), &[], bounds).adherence, Some(1.0));
        assert_eq!(patch_day(None, &weak, bounds).adherence, None);
    }

    #[test]
    fn a_day_in_a_time_zone_with_a_clock_change_has_its_own_length() {
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let (from, to) = day_bounds("America/Chicago", spring);
        assert_eq!((to - from).num_hours(), 23);
        let (from, to) = day_bounds("not/a-zone", spring);
        assert_eq!((to - from).num_hours(), 24);
        assert_eq!(from, at("2026-03-08T00:00:00Z"));
    }
}
