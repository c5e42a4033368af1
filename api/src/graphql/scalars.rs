//! Scalars the contract names: `Date` (YYYY-MM-DD). (`UUID` and `DateTime`
//! come from async-graphql with those names.)

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

// ---------------------------------------------------------------------------
// Bounds on date arguments, shared by every resolver that takes a `Date` or
// `DateTime`: values outside them are `BAD_USER_INPUT` naming the argument
// (chrono accepts years up to ±262142, where date arithmetic panics).

use chrono::{DateTime, Datelike, Utc};

use crate::error::InputError;

/// The earliest year a date argument may name.
pub const EARLIEST_YEAR: i32 = 1900;
/// How many years past today a date argument may name.
pub const YEARS_AHEAD: i32 = 10;

/// The latest day a date argument may name, `YEARS_AHEAD` years after `today`.
fn latest(today: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(today.year() + YEARS_AHEAD, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// `day` lies between 1900-01-01 and the end of the year ten years after
/// `today`.
pub fn check_day(field: &'static str, day: NaiveDate, today: NaiveDate) -> Result<(), InputError> {
    if day.year() < EARLIEST_YEAR || day > latest(today) {
        return Err(InputError::new(
            field,
            format!(
                "{field} must be between {EARLIEST_YEAR}-01-01 and {}",
                latest(today)
            ),
        ));
    }
    Ok(())
}

/// An instant within the same bounds as `check_day` (by its UTC day).
pub fn check_instant(
    field: &'static str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), InputError> {
    check_day(field, at.date_naive(), now.date_naive())
}

/// An optional instant (e.g. `updatedSince`) within the bounds.
pub fn check_optional_instant(
    field: &'static str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), InputError> {
    at.map_or(Ok(()), |at| check_instant(field, at, now))
}

/// A day range `from..=to` (arguments named `from` and `to`): both within
/// bounds, in order, at most `max_days` apart.
pub fn check_day_range(
    from: NaiveDate,
    to: NaiveDate,
    max_days: i64,
    today: NaiveDate,
) -> Result<(), InputError> {
    check_day("from", from, today)?;
    check_day("to", to, today)?;
    if to < from {
        return Err(InputError::new("to", "to must not be before from"));
    }
    if (to - from).num_days() > max_days {
        return Err(InputError::new(
            "to",
            format!("at most {max_days} days at a time"),
        ));
    }
    Ok(())
}

/// An instant window `[from, to)` (arguments named `from` and `to`, either
/// optional): each within bounds, `to` after `from` when both are given.
pub fn check_window(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), InputError> {
    check_optional_instant("from", from, now)?;
    check_optional_instant("to", to, now)?;
    match (from, to) {
        (Some(from), Some(to)) if to <= from => Err(InputError::new("to", "to must be after from")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_are_bounded_to_1900_and_ten_years_ahead() {
        let today = d("2026-06-01");
        assert!(check_day("from", d("1900-01-01"), today).is_ok());
        assert!(check_day("from", d("2036-12-31"), today).is_ok());
        assert_eq!(
            check_day("from", d("1899-12-31"), today).unwrap_err().field,
            "from"
        );
        assert_eq!(
            check_day("to", d("2037-01-01"), today).unwrap_err().field,
            "to"
        );
        assert_eq!(
            check_day("to", NaiveDate::MAX, today).unwrap_err().field,
            "to"
        );
        assert_eq!(
            check_day("from", NaiveDate::MIN, today).unwrap_err().field,
            "from"
        );
    }

    #[test]
    fn ranges_check_bounds_order_and_length() {
        let today = d("2026-06-01");
        assert!(check_day_range(d("2026-01-01"), d("2026-01-31"), 366, today).is_ok());
        let max = check_day_range(NaiveDate::MAX, NaiveDate::MAX, 366, today);
        assert_eq!(max.unwrap_err().field, "from");
        let long = check_day_range(d("2026-01-01"), d("2027-01-03"), 366, today);
        assert_eq!(long.unwrap_err().field, "to");
        let reversed = check_day_range(d("2026-01-02"), d("2026-01-01"), 366, today);
        assert_eq!(reversed.unwrap_err().field, "to");
        let now = Utc::now();
        let far = DateTime::<Utc>::MAX_UTC;
        assert_eq!(check_window(None, Some(far), now).unwrap_err().field, "to");
        assert_eq!(
            check_window(Some(now), Some(now), now).unwrap_err().field,
            "to"
        );
        assert!(check_window(Some(now), None, now).is_ok());
    }
}
