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
}
