//! Calendar rules shared by appointments and group meetings: pure, no
//! database.
//!
//! A slot is the half-open interval `[startsAt, endsAt)` in whole seconds:
//! back-to-back sessions touch without overlapping. It lasts at most 12
//! hours, may be entered up to 7 days after the fact (a session written up
//! afterwards), and lies at most two years ahead. A link to a virtual
//! session is an http(s) URL.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::{error::InputError, validation::is_web_url};

/// How long one session may last.
pub const MAX_LENGTH: Duration = Duration::hours(12);
/// How far back a session may be entered.
pub const MAX_PAST: Duration = Duration::days(7);
/// How far ahead one may be booked.
pub const MAX_AHEAD: Duration = Duration::days(2 * 366);

/// What is being booked, as messages name it ("an appointment", "a meeting").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking(pub &'static str);

pub const APPOINTMENT: Booking = Booking("an appointment");
pub const MEETING: Booking = Booking("a meeting");

/// When a session takes place: `[starts_at, ends_at)`, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Slot {
    /// A slot that ends after it starts, lasts at most `MAX_LENGTH`, and
    /// lies from `MAX_PAST` before `now` to `MAX_AHEAD` after it.
    pub fn new(
        what: Booking,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, InputError> {
        let (starts_at, ends_at) = (starts_at.trunc_subsecs(0), ends_at.trunc_subsecs(0));
        if ends_at <= starts_at {
            return Err(InputError::new("endsAt", "endsAt must be after startsAt"));
        }
        if ends_at - starts_at > MAX_LENGTH {
            return Err(InputError::new(
                "endsAt",
                format!("{} lasts at most 12 hours", what.0),
            ));
        }
        if starts_at < now - MAX_PAST {
            return Err(InputError::new(
                "startsAt",
                "startsAt may be at most 7 days in the past",
            ));
        }
        if starts_at > now + MAX_AHEAD {
            return Err(InputError::new(
                "startsAt",
                "startsAt may be at most two years ahead",
            ));
        }
        Ok(Self { starts_at, ends_at })
    }

    /// True when the two share any instant (touching ends do not).
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }
}

/// An optional link to a virtual session: blank is none; otherwise an
/// http(s) URL of at most 2000 characters.
pub fn meeting_url(value: Option<&str>) -> Result<Option<String>, InputError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(url) if is_web_url(url) => Ok(Some(url.to_owned())),
        Some(_) => Err(InputError::new(
            "meetingUrl",
            "meetingUrl must be an http(s) URL of at most 2000 characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_half_open() {
        let now = Utc::now();
        let at = |h: i64| now + Duration::hours(h);
        let field = |r: Result<Slot, InputError>| r.map(|_| ()).map_err(|e| e.field);
        // (start, end, the field at fault)
        let cases = [
            (at(1), at(2), Ok(())),
            (at(2), at(1), Err("endsAt")),
            (at(1), at(1), Err("endsAt")),
            (at(1), at(14), Err("endsAt")),
            (at(1), at(13), Ok(())),
            (
                now - Duration::days(8),
                now - Duration::days(8) + Duration::hours(1),
                Err("startsAt"),
            ),
            (
                now - Duration::days(6),
                now - Duration::days(6) + Duration::hours(1),
                Ok(()),
            ),
            (
                now + Duration::days(800),
                now + Duration::days(800) + Duration::hours(1),
                Err("startsAt"),
            ),
        ];
        for (start, end, expected) in cases {
            assert_eq!(
                field(Slot::new(APPOINTMENT, start, end, now)),
                expected,
                "{start} {end}"
            );
        }
        let long = Slot::new(MEETING, at(1), at(14), now).unwrap_err();
        assert_eq!(long.message, "a meeting lasts at most 12 hours");
        let a = Slot::new(APPOINTMENT, at(1), at(2), now).unwrap();
        let b = Slot::new(APPOINTMENT, at(2), at(3), now).unwrap();
        assert!(!a.overlaps(&b), "back-to-back sessions touch");
        assert!(a.overlaps(&Slot::new(APPOINTMENT, at(1), at(3), now).unwrap()));
    }

    #[test]
    fn meeting_links() {
        assert_eq!(meeting_url(None), Ok(None));
        assert_eq!(meeting_url(Some("  ")), Ok(None));
        assert_eq!(
            meeting_url(Some(" https://meet.example.org/x ")),
            Ok(Some("https://meet.example.org/x".into()))
        );
        assert_eq!(
            meeting_url(Some("meet.example.org")).unwrap_err().field,
            "meetingUrl"
        );
    }
}
