//! Care's own limits, and the checks on what clinicians, admins and
//! patients type into programs, enrollments, appointments, notes and
//! recovery plans: pure, each failure naming its input field. (Reasons use
//! the shared `crate::validation::REASON_MAX`.)

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    graphql::scalars,
};

/// Characters in a program's name.
pub const PROGRAM_NAME_MAX: usize = 200;
/// Characters in a program's description.
pub const DESCRIPTION_MAX: usize = 5000;
/// Group sessions a program may expect each week.
pub const GROUP_SESSIONS_PER_WEEK: RangeInclusive<i32> = 0..=21;
/// How often, in days, a program's care team may follow up.
pub const FOLLOW_UP_EVERY_DAYS: RangeInclusive<i32> = 1..=365;
/// How far from the patient's today, either way, an enrollment may start.
pub const ENROLLMENT_START_WITHIN_DAYS: i64 = 366;
/// Characters in an enrollment's aftercare plan.
pub const AFTERCARE_PLAN_MAX: usize = 5000;
/// Family participants in one appointment.
pub const FAMILY_PARTICIPANTS_MAX: usize = 10;
/// The longest window `myAgenda` answers for.
pub const AGENDA_MAX_DAYS: i64 = 93;
/// Items per recovery-plan list, and characters per item.
pub const PLAN_LIST_MAX_ITEMS: usize = 50;
pub const PLAN_ITEM_MAX_CHARS: usize = 500;
/// Characters in one clinical note.
pub const NOTE_MAX_CHARS: usize = 20_000;

/// A program's description, trimmed (it may be empty).
pub fn description(value: &str) -> ApiResult<String> {
    let description = value.trim();
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(ApiError::bad_input(
            "description",
            format!("description must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    Ok(description.to_owned())
}

/// An enrollment starts within a year either side of the patient's today.
pub fn enrollment_start(starts_on: NaiveDate, today: NaiveDate) -> ApiResult<()> {
    if (starts_on - today).num_days().abs() > ENROLLMENT_START_WITHIN_DAYS {
        return Err(ApiError::bad_input(
            "startsOn",
            "startsOn must be within a year of today",
        ));
    }
    Ok(())
}

/// Family participants, each once (sorted), at most
/// `FAMILY_PARTICIPANTS_MAX`.
pub fn family_participants(mut ids: Vec<Uuid>) -> ApiResult<Vec<Uuid>> {
    ids.sort();
    ids.dedup();
    if ids.len() > FAMILY_PARTICIPANTS_MAX {
        return Err(ApiError::bad_input(
            "familyParticipantIds",
            format!("at most {FAMILY_PARTICIPANTS_MAX} family participants"),
        ));
    }
    Ok(ids)
}

/// A window `[from, to)` whose ends, when both given, are in order.
pub fn window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> ApiResult<()> {
    Ok(scalars::check_window(from, to, Utc::now())?)
}

/// An agenda's window: in order, at most `AGENDA_MAX_DAYS` long.
pub fn agenda_window(from: DateTime<Utc>, to: DateTime<Utc>) -> ApiResult<()> {
    window(Some(from), Some(to))?;
    if to - from > Duration::days(AGENDA_MAX_DAYS) {
        return Err(ApiError::bad_input(
            "to",
            format!("an agenda covers at most {AGENDA_MAX_DAYS} days"),
        ));
    }
    Ok(())
}

/// A recovery-plan list: items trimmed, none blank, bounded in number and
/// length; order kept (it is the patient's).
pub fn plan_list(field: &str, items: &[String]) -> ApiResult<Vec<String>> {
    if items.len() > PLAN_LIST_MAX_ITEMS {
        return Err(ApiError::bad_input(
            field,
            format!("{field} may hold at most {PLAN_LIST_MAX_ITEMS} items"),
        ));
    }
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(ApiError::bad_input(
                    field,
                    format!("{field} may not contain blank items"),
                ))
            } else if item.chars().count() > PLAN_ITEM_MAX_CHARS {
                Err(ApiError::bad_input(
                    field,
                    format!("each of {field} must be at most {PLAN_ITEM_MAX_CHARS} characters"),
                ))
            } else if item.chars().any(|c| c.is_control()) {
                Err(ApiError::bad_input(
                    field,
                    format!("{field} may not contain control characters"),
                ))
            } else {
                Ok(item.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::BadInput { field: Some(f), .. } => f,
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn plan_lists() {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            plan_list("triggers", &owned(&["  payday ", "arguments"])).unwrap(),
            ["payday", "arguments"]
        );
        assert!(plan_list("triggers", &[]).unwrap().is_empty());
        for bad in [
            owned(&["ok", "  "]),
            owned(&[&"x".repeat(PLAN_ITEM_MAX_CHARS + 1)]),
            owned(&["a\u{0}b"]),
            vec!["x".to_string(); PLAN_LIST_MAX_ITEMS + 1],
        ] {
            assert_eq!(
                field_of(plan_list("warningSigns", &bad).unwrap_err()),
                "warningSigns"
            );
        }
        assert!(plan_list("triggers", &vec!["x".to_string(); PLAN_LIST_MAX_ITEMS]).is_ok());
    }

    #[test]
    fn programs_enrollments_and_windows() {
        assert_eq!(description("  x ").unwrap(), "x");
        assert_eq!(
            field_of(description(&"d".repeat(DESCRIPTION_MAX + 1)).unwrap_err()),
            "description"
        );
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(enrollment_start(day("2027-01-01"), day("2026-01-01")).is_ok());
        assert_eq!(
            field_of(enrollment_start(day("2027-01-03"), day("2026-01-01")).unwrap_err()),
            "startsOn"
        );
        let ids: Vec<Uuid> = (0..=FAMILY_PARTICIPANTS_MAX)
            .map(|_| Uuid::now_v7())
            .collect();
        assert_eq!(
            field_of(family_participants(ids.clone()).unwrap_err()),
            "familyParticipantIds"
        );
        let twice = vec![ids[1], ids[0], ids[1]];
        assert_eq!(family_participants(twice).unwrap(), [ids[0], ids[1]]);
        let now = Utc::now();
        assert!(window(Some(now), None).is_ok());
        assert_eq!(field_of(window(Some(now), Some(now)).unwrap_err()), "to");
        assert!(agenda_window(now, now + Duration::days(AGENDA_MAX_DAYS)).is_ok());
        assert_eq!(
            field_of(agenda_window(now, now + Duration::days(AGENDA_MAX_DAYS + 1)).unwrap_err()),
            "to"
        );
    }
}
