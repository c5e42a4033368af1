//! Checks on what people type when they sign up: each failure names its
//! input field (`BAD_USER_INPUT`, `extensions.field`).

use std::str::FromStr;

use crate::error::{ApiError, ApiResult};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
