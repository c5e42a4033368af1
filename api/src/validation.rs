//! Checks on what people type, shared by every domain: each failure names
//! its input field (`BAD_USER_INPUT`, `extensions.field`). The limits that
//! several domains share are named here once.

use std::str::FromStr;

use crate::error::{ApiError, ApiResult};

/// Characters in a reason (for a pause, a cancellation, a removal, a report).
pub const REASON_MAX: usize = 1000;

/// A plausible address, lower-cased. (Deliverability is proven by the
/// invitation reaching it, not by a regex.)
pub fn email(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    if valid {
        Ok(value)
    } else {
        Err(ApiError::bad_input(field, "not a valid email address"))
    }
}

/// An IANA time zone name, e.g. "America/Chicago".
pub fn timezone(field: &str, value: &str) -> ApiResult<String> {
    chrono_tz::Tz::from_str(value.trim())
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            ApiError::bad_input(
                field,
                "not an IANA time zone name (e.g. \"America/Chicago\")",
            )
        })
}

/// 1–100 printable characters, trimmed.
pub fn display_name(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length == 0 || length > 100 || value.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            field,
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(value.to_owned())
}

/// Free text of at most `max` characters, required unless `optional`.
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(ApiError::bad_input(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An absolute http(s) URL of at most 2000 characters, with a host and no
/// whitespace or control characters (meeting links, resource links).
pub fn is_web_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    value.len() <= 2000
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && rest.is_some_and(|rest| {
            rest.split(['/', '?', '#'])
                .next()
                .is_some_and(|host| !host.is_empty() && !host.starts_with(':'))
        })
}

/// A new password, against the policy in `auth::passwords`.
pub fn new_password(field: &str, value: &str) -> ApiResult<()> {
    crate::auth::passwords::check_policy(value)
        .map_err(|message| ApiError::bad_input(field, message))
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

/// How far ahead of the server's clock a phone's instant may be (a dose's
/// `takenAt`, a check-in's `submittedAt`).
pub const PHONE_MINUTES_AHEAD: i64 = 5;
/// How far back a phone may date what it queued offline.
pub const PHONE_DAYS_BACK: i64 = 14;

/// An instant a phone reports for something it recorded: not more than 5
/// minutes ahead of `now`, nor more than 14 days before it.
pub fn phone_instant(
    field: &'static str,
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::error::InputError> {
    use crate::error::InputError;
    if at > now + chrono::Duration::minutes(PHONE_MINUTES_AHEAD) {
        return Err(InputError::new(field, format!("{field} is in the future")));
    }
    if at < now - chrono::Duration::days(PHONE_DAYS_BACK) {
        return Err(InputError::new(
            field,
            format!("{field} is more than {PHONE_DAYS_BACK} days ago"),
        ));
    }
    Ok(())
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
    fn emails() {
        assert_eq!(
            email("email", " Ann@Example.org ").unwrap(),
            "ann@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@x.org",
            "a@@x.org",
            "a@x..org",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timezones_are_iana_names() {
        assert_eq!(
            timezone("timezone", "America/Chicago").unwrap(),
            "America/Chicago"
        );
        assert_eq!(timezone("timezone", "UTC").unwrap(), "UTC");
        for bad in ["Mars/Olympus", "", "GMT+25"] {
            let err = timezone("timezone", bad).unwrap_err();
            assert!(matches!(err, ApiError::BadInput { field: Some(f), .. } if f == "timezone"));
        }
    }

    #[test]
    fn web_urls() {
        for good in [
            "https://a.org",
            "http://a.org/x?y=1#z",
            "https://a.org:8443/p",
        ] {
            assert!(is_web_url(good), "{good}");
        }
        for bad in [
            "",
            "a.org",
            "ftp://a.org",
            "https://",
            "https:///x",
            "https://a b.org",
            "javascript:alert(1)",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
        assert!(!is_web_url(&format!("https://a.org/{}", "x".repeat(2000))));
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("displayName", "  Ann  ").unwrap(), "Ann");
        assert!(display_name("displayName", "   ").is_err());
        assert!(display_name("displayName", &"x".repeat(101)).is_err());
        assert!(display_name("displayName", "a\u{0007}b").is_err());
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
