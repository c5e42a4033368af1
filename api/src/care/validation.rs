//! Checks on what clinicians, admins and patients type into programs,
//! notes and recovery plans: pure, each failure naming its input field.

use crate::error::{ApiError, ApiResult};

/// Items per recovery-plan list, and characters per item.
pub const PLAN_LIST_MAX_ITEMS: usize = 50;
pub const PLAN_ITEM_MAX_CHARS: usize = 500;
/// Characters in one clinical note.
pub const NOTE_MAX_CHARS: usize = 20_000;

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

/// An optional whole number in `range`, else bad input on `field`.
pub fn optional_in_range(
    field: &str,
    value: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
) -> ApiResult<Option<i32>> {
    match value {
        Some(v) if !range.contains(&v) => Err(ApiError::bad_input(
            field,
            format!("{field} must be from {} to {}", range.start(), range.end()),
        )),
        other => Ok(other),
    }
}

/// Free text that may be absent or blank (then `None`), else at most `max`
/// characters.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(ApiError::bad_input(
            field,
            format!("{field} must be at most {max} characters"),
        )),
        Some(v) => Ok(Some(v.to_owned())),
    }
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
    fn bounded_numbers_and_optional_text() {
        assert_eq!(optional_in_range("n", None, 1..=3).unwrap(), None);
        assert_eq!(optional_in_range("n", Some(3), 1..=3).unwrap(), Some(3));
        assert_eq!(
            field_of(optional_in_range("n", Some(0), 1..=3).unwrap_err()),
            "n"
        );
        assert_eq!(optional_text("r", Some("  "), 5).unwrap(), None);
        assert_eq!(
            optional_text("r", Some(" ok "), 5).unwrap().as_deref(),
            Some("ok")
        );
        assert_eq!(
            field_of(optional_text("r", Some("toolong"), 5).unwrap_err()),
            "r"
        );
    }
}
