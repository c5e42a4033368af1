//! Appointment rules: pure, no database. Slots follow `crate::calendar`.
//!
//! What kind of session an appointment is; a clinician's non-cancelled
//! appointments may not overlap. A virtual session needs a meeting URL, an
//! in-person one a location. SCHEDULED is the only status that changes:
//! to COMPLETED or NO_SHOW once it has begun, or to CANCELLED with a reason.

use chrono::{DateTime, Utc};

pub use crate::calendar::Slot;
use crate::{
    calendar,
    error::{ApiError, InputError},
    stored::stored_enum,
};

/// Characters in an in-person appointment's location.
pub const LOCATION_MAX: usize = 500;

stored_enum!(
    /// What kind of session an appointment is.
    AppointmentKind {
        IndividualCbt => "INDIVIDUAL_CBT",
        IndividualDbt => "INDIVIDUAL_DBT",
        FamilyTherapy => "FAMILY_THERAPY",
        GroupCounseling => "GROUP_COUNSELING",
        Medical => "MEDICAL",
        FollowUp => "FOLLOW_UP",
        /// Multimodal pain care: physiotherapy.
        PhysicalTherapy => "PHYSICAL_THERAPY",
        /// Multimodal pain care: acupuncture, massage.
        ComplementaryTherapy => "COMPLEMENTARY_THERAPY",
    }
);

fn bad(field: &'static str, message: &'static str) -> InputError {
    InputError::new(field, message)
}

/// Where an appointment takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub is_virtual: bool,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
}

/// Checks the venue: a virtual session needs an http(s) `meetingUrl`, an
/// in-person one a `location`. Blank strings count as missing.
pub fn venue(
    is_virtual: bool,
    location: Option<&str>,
    meeting_url: Option<&str>,
) -> Result<Venue, InputError> {
    let location = location.map(str::trim).filter(|s| !s.is_empty());
    let meeting_url = meeting_url.map(str::trim).filter(|s| !s.is_empty());
    if let Some(location) = location
        && location.chars().count() > LOCATION_MAX
    {
        return Err(InputError::new(
            "location",
            format!("location must be at most {LOCATION_MAX} characters"),
        ));
    }
    let meeting_url = calendar::meeting_url(meeting_url)?;
    match (is_virtual, location, meeting_url) {
        (true, _, None) => Err(bad(
            "meetingUrl",
            "a virtual appointment needs a meetingUrl",
        )),
        (false, None, _) => Err(bad("location", "an in-person appointment needs a location")),
        (is_virtual, location, meeting_url) => Ok(Venue {
            is_virtual,
            location: location.map(str::to_owned),
            meeting_url,
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Completed,
    NoShow,
    Cancelled,
}

stored_enum!(impl Status {
    Scheduled => "SCHEDULED",
    Completed => "COMPLETED",
    NoShow => "NO_SHOW",
    Cancelled => "CANCELLED",
});

impl Status {
    /// Cancelled appointments free the clinician's time.
    pub fn holds_time(self) -> bool {
        self != Self::Cancelled
    }
}

/// Why a status change cannot happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusError {
    /// The move is not possible now (`CONFLICT`).
    Conflict(&'static str),
    /// Bad input (`BAD_USER_INPUT`).
    Input(InputError),
}

impl From<StatusError> for ApiError {
    fn from(err: StatusError) -> Self {
        match err {
            StatusError::Conflict(message) => ApiError::conflict(message),
            StatusError::Input(err) => err.into(),
        }
    }
}

/// The status after setting `target` on an appointment in `current` that
/// starts at `starts_at`.
pub fn set_status(
    current: Status,
    target: Status,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    has_reason: bool,
) -> Result<Status, StatusError> {
    use Status::*;
    match (current, target) {
        (Completed | NoShow | Cancelled, _) => Err(StatusError::Conflict(
            "the appointment is already completed, missed or cancelled",
        )),
        (Scheduled, Scheduled) => Err(StatusError::Conflict(
            "the appointment is already scheduled",
        )),
        (Scheduled, Completed | NoShow) if now < starts_at => {
            Err(StatusError::Conflict("the appointment has not started yet"))
        }
        (Scheduled, Cancelled) if !has_reason => Err(StatusError::Input(bad(
            "reason",
            "cancelling needs a reason",
        ))),
        (Scheduled, target) => Ok(target),
    }
}

/// Only a scheduled appointment can move to another time.
pub fn can_reschedule(current: Status) -> Result<(), &'static str> {
    match current {
        Status::Scheduled => Ok(()),
        _ => Err("only a scheduled appointment can be rescheduled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn slot(a: &str, b: &str) -> Slot {
        Slot {
            starts_at: t(a),
            ends_at: t(b),
        }
    }

    #[test]
    fn overlap_is_half_open() {
        let booked = slot("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z");
        let cases = [
            // (candidate, overlaps)
            (("2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"), false), // right after
            (("2026-03-02T14:00:00Z", "2026-03-02T15:00:00Z"), false), // right before
            (("2026-03-02T15:59:00Z", "2026-03-02T17:00:00Z"), true),  // a minute over the end
            (("2026-03-02T14:00:00Z", "2026-03-02T15:01:00Z"), true),  // a minute into the start
            (("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"), true),  // the same slot
            (("2026-03-02T15:15:00Z", "2026-03-02T15:45:00Z"), true),  // inside
            (("2026-03-02T14:00:00Z", "2026-03-02T17:00:00Z"), true),  // around
            (("2026-03-02T17:00:00Z", "2026-03-02T18:00:00Z"), false), // later
        ];
        for ((a, b), overlaps) in cases {
            let candidate = slot(a, b);
            assert_eq!(candidate.overlaps(&booked), overlaps, "{a}–{b}");
            assert_eq!(booked.overlaps(&candidate), overlaps, "symmetric {a}–{b}");
        }
    }

    #[test]
    fn slots_end_after_they_start_within_bounds() {
        let now = t("2026-03-01T12:00:00Z");
        let ok = Slot::new(
            crate::calendar::APPOINTMENT,
            t("2026-03-02T15:00:00.750Z"),
            t("2026-03-02T16:00:00Z"),
            now,
        )
        .unwrap();
        assert_eq!(ok.starts_at, t("2026-03-02T15:00:00Z"), "whole seconds");
        for (a, b, field) in [
            ("2026-03-02T15:00:00Z", "2026-03-02T15:00:00Z", "endsAt"),
            ("2026-03-02T15:00:00Z", "2026-03-02T14:00:00Z", "endsAt"),
            ("2026-03-02T08:00:00Z", "2026-03-02T20:00:01Z", "endsAt"),
            ("2026-02-20T15:00:00Z", "2026-02-20T16:00:00Z", "startsAt"),
            ("2028-06-01T15:00:00Z", "2028-06-01T16:00:00Z", "startsAt"),
        ] {
            assert_eq!(
                Slot::new(crate::calendar::APPOINTMENT, t(a), t(b), now)
                    .unwrap_err()
                    .field,
                field,
                "{a}–{b}"
            );
        }
        assert!(
            Slot::new(
                crate::calendar::APPOINTMENT,
                t("2026-02-23T12:00:00Z"),
                t("2026-02-23T13:00:00Z"),
                now
            )
            .is_ok()
        );
        assert!(
            Slot::new(
                crate::calendar::APPOINTMENT,
                t("2026-03-02T08:00:00Z"),
                t("2026-03-02T20:00:00Z"),
                now
            )
            .is_ok()
        );
    }

    #[test]
    fn venues() {
        // (virtual, location, meetingUrl, the field at fault)
        type Case<'a> = (bool, Option<&'a str>, Option<&'a str>, Result<(), &'a str>);
        let cases: [Case; 8] = [
            (true, None, Some("https://meet.example.org/abc"), Ok(())),
            (false, Some("Room 4, Main St clinic"), None, Ok(())),
            (true, Some("home"), Some("http://meet.example.org"), Ok(())),
            (true, None, None, Err("meetingUrl")),
            (true, None, Some("  "), Err("meetingUrl")),
            (true, None, Some("meet.example.org"), Err("meetingUrl")),
            (
                false,
                Some(" "),
                Some("https://meet.example.org"),
                Err("location"),
            ),
            (false, None, None, Err("location")),
        ];
        for (is_virtual, location, url, expected) in cases {
            let got = venue(is_virtual, location, url)
                .map(|_| ())
                .map_err(|e| e.field);
            assert_eq!(got, expected, "{is_virtual} {location:?} {url:?}");
        }
        assert_eq!(
            venue(false, Some("  Room 4 "), None)
                .unwrap()
                .location
                .as_deref(),
            Some("Room 4")
        );
    }

    #[test]
    fn only_scheduled_appointments_change_status() {
        use Status::*;
        let starts = t("2026-03-02T15:00:00Z");
        let before = t("2026-03-02T14:00:00Z");
        let after = t("2026-03-02T15:30:00Z");
        assert_eq!(
            set_status(Scheduled, Completed, starts, after, false),
            Ok(Completed)
        );
        assert_eq!(
            set_status(Scheduled, NoShow, starts, after, false),
            Ok(NoShow)
        );
        assert_eq!(
            set_status(Scheduled, Cancelled, starts, before, true),
            Ok(Cancelled)
        );
        assert_eq!(
            set_status(Scheduled, Cancelled, starts, after, true),
            Ok(Cancelled)
        );
        assert!(matches!(
            set_status(Scheduled, Cancelled, starts, before, false),
            Err(StatusError::Input(InputError {
                field: "reason",
                ..
            }))
        ));
        for (current, target, now) in [
            (Scheduled, Completed, before),
            (Scheduled, NoShow, before),
            (Scheduled, Scheduled, before),
            (Completed, Cancelled, after),
            (Cancelled, Scheduled, after),
            (Cancelled, Cancelled, after),
            (NoShow, Completed, after),
        ] {
            assert!(
                matches!(
                    set_status(current, target, starts, now, true),
                    Err(StatusError::Conflict(_))
                ),
                "{current:?} → {target:?}"
            );
        }
        assert!(can_reschedule(Scheduled).is_ok());
        assert!(can_reschedule(Cancelled).is_err() && can_reschedule(Completed).is_err());
        for s in [Scheduled, Completed, NoShow, Cancelled] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(!Cancelled.holds_time() && NoShow.holds_time());
    }

    #[test]
    fn appointment_kinds_round_trip() {
        use AppointmentKind::*;
        for kind in [
            IndividualCbt,
            IndividualDbt,
            FamilyTherapy,
            GroupCounseling,
            Medical,
            FollowUp,
            PhysicalTherapy,
            ComplementaryTherapy,
        ] {
            assert_eq!(AppointmentKind::parse(kind.as_str()), Some(kind));
        }
        assert!(AppointmentKind::from_row("YOGA").is_err());
    }
}
