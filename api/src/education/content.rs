//! What an education resource must hold, and how tags are written: pure
//! rules, no database.
//!
//! Every resource has a title. Videos, audio and links live somewhere: they
//! need an http(s) URL. An article is a URL or an inline body. Tags are
//! trimmed and lower-cased so "Sleep" and "sleep " find the same resources.

use crate::{error::InputError, stored::stored_enum, validation::is_web_url};

/// Characters in a title, an article's body, one tag; tags per resource.
pub const TITLE_MAX_CHARS: usize = 200;
pub const BODY_MAX_CHARS: usize = 50_000;
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Article,
    Video,
    Audio,
    Link,
}

stored_enum!(impl Kind {
    Article => "ARTICLE",
    Video => "VIDEO",
    Audio => "AUDIO",
    Link => "LINK",
});

impl Kind {
    pub fn needs_url(self) -> bool {
        self != Self::Article
    }
}

/// A resource's content, checked and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub title: String,
    pub url: Option<String>,
    pub body: Option<String>,
    pub tags: Vec<String>,
}

/// Checks a new resource; blank `url` and `body` count as absent.
pub fn check(
    title: &str,
    kind: Kind,
    url: Option<&str>,
    body: Option<&str>,
    tags: &[String],
) -> Result<Checked, InputError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(InputError::new("title", "title is required"));
    }
    if title.chars().count() > TITLE_MAX_CHARS || title.chars().any(char::is_control) {
        return Err(InputError::new(
            "title",
            format!("title must be at most {TITLE_MAX_CHARS} printable characters"),
        ));
    }
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let body = body.map(str::trim).filter(|b| !b.is_empty());
    if let Some(url) = url
        && !is_web_url(url)
    {
        return Err(InputError::new(
            "url",
            "url must be an http(s) URL of at most 2000 characters",
        ));
    }
    if kind.needs_url() && url.is_none() {
        return Err(InputError::new(
            "url",
            format!("a {} resource needs a url", kind.as_str()),
        ));
    }
    if url.is_none() && body.is_none() {
        return Err(InputError::new("body", "an article needs a body or a url"));
    }
    if body.is_some_and(|b| b.chars().count() > BODY_MAX_CHARS) {
        return Err(InputError::new(
            "body",
            format!("body must be at most {BODY_MAX_CHARS} characters"),
        ));
    }
    for (field, text) in [("title", Some(title)), ("body", body)] {
        if text.is_some_and(claims_painless_cold_turkey) {
            return Err(InputError::new(field, COLD_TURKEY_REFUSAL));
        }
    }
    Ok(Checked {
        title: title.to_owned(),
        url: url.map(str::to_owned),
        body: body.map(str::to_owned),
        tags: tags_of(tags)?,
    })
}

const COLD_TURKEY_REFUSAL: &str = "stopping opioids abruptly (\"cold turkey\") causes withdrawal and \
     raises overdose risk (CDC 2022; FDA 2019): education content must not claim otherwise";

/// Whether a sentence of `text` claims opioids can be stopped "cold turkey"
/// (or abruptly) without withdrawal. CDC and FDA say the opposite, and one
/// article in circulation says it: such content is refused, never shown.
pub fn claims_painless_cold_turkey(text: &str) -> bool {
    const ABRUPT: [&str; 3] = ["cold turkey", "abruptly", "all at once"];
    const PAINLESS: [&str; 5] = [
        "without withdrawal",
        "without any withdrawal",
        "without experiencing withdrawal",
        "without experiencing any withdrawal",
        "no withdrawal",
    ];
    text.to_lowercase()
        .split(['.', '!', '?', '\n'])
        .any(|sentence| {
            ABRUPT.iter().any(|a| sentence.contains(a))
                && PAINLESS.iter().any(|p| sentence.contains(p))
        })
}

/// One tag as stored: trimmed, lower-case, 1–40 characters.
pub fn tag(value: &str) -> Option<String> {
    let tag = value.trim().to_lowercase();
    let length = tag.chars().count();
    ((1..=TAG_MAX_CHARS).contains(&length) && !tag.chars().any(char::is_control)).then_some(tag)
}

/// A tag to search by (`resources(tag:)`), as stored.
pub fn search_tag(value: &str) -> Result<String, InputError> {
    tag(value).ok_or_else(|| {
        InputError::new(
            "tag",
            format!("tag must be 1 to {TAG_MAX_CHARS} printable characters"),
        )
    })
}

/// Tags as stored: each valid, duplicates dropped, sorted, at most 20.
pub fn tags_of(tags: &[String]) -> Result<Vec<String>, InputError> {
    let mut out: Vec<String> = Vec::new();
    for value in tags {
        let tag = tag(value).ok_or_else(|| {
            InputError::new(
                "tags",
                format!("each tag must be 1 to {TAG_MAX_CHARS} printable characters"),
            )
        })?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > TAGS_MAX {
        return Err(InputError::new("tags", format!("at most {TAGS_MAX} tags")));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_never_claims_opioids_stop_cold_turkey_without_withdrawal() {
        // CLINICAL.md: "Never teach that opioids can be stopped 'cold turkey'
        // without withdrawal"; the seed article's sentence is refused.
        let seed = "Individuals can often stop taking opioids cold turkey without \
                    experiencing any withdrawal symptoms. In other cases, they can reduce.";
        assert!(claims_painless_cold_turkey(seed));
        let err = check("Treatment", Kind::Article, None, Some(seed), &[]).unwrap_err();
        assert_eq!(err.field, "body");
        assert!(claims_painless_cold_turkey(
            "Stop ABRUPTLY, with no withdrawal!"
        ));
        // Saying the truth is fine, in one sentence or two.
        for ok in [
            "Stopping cold turkey causes withdrawal; taper with your care team.",
            "Never stop cold turkey. A slow taper can keep you without withdrawal symptoms.",
        ] {
            assert!(!claims_painless_cold_turkey(ok), "{ok}");
        }
    }

    fn tags(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn what_each_kind_needs() {
        use Kind::*;
        let url = Some("https://example.org/sleep");
        let body = Some("Keep a regular bedtime.");
        // (title, kind, url, body, the field at fault)
        type Case<'a> = (
            &'a str,
            Kind,
            Option<&'a str>,
            Option<&'a str>,
            Result<(), &'a str>,
        );
        let cases: [Case; 11] = [
            ("Sleep", Article, None, body, Ok(())),
            ("Sleep", Article, url, None, Ok(())),
            ("Sleep", Video, url, None, Ok(())),
            ("Sleep", Audio, url, body, Ok(())),
            ("Sleep", Link, url, None, Ok(())),
            ("Sleep", Link, None, body, Err("url")),
            ("Sleep", Video, Some("  "), None, Err("url")),
            ("Sleep", Audio, Some("example.org/a.mp3"), None, Err("url")),
            ("Sleep", Article, None, Some(" "), Err("body")),
            ("  ", Article, None, body, Err("title")),
            (
                &"t".repeat(TITLE_MAX_CHARS + 1),
                Article,
                None,
                body,
                Err("title"),
            ),
        ];
        for (title, kind, url, body, expected) in cases {
            let got = check(title, kind, url, body, &[])
                .map(|_| ())
                .map_err(|e| e.field);
            assert_eq!(got, expected, "{kind:?} {url:?} {body:?}");
        }
        let long_body = "b".repeat(BODY_MAX_CHARS + 1);
        assert_eq!(
            check("x", Article, None, Some(&long_body), &[])
                .unwrap_err()
                .field,
            "body"
        );
        for kind in [Article, Video, Audio, Link] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn tags_are_lower_case_and_unique() {
        assert_eq!(
            tags_of(&tags(&[" Sleep", "sleep", "Coping Skills", "SLEEP "])).unwrap(),
            ["coping skills", "sleep"]
        );
        assert_eq!(tag("  "), None);
        assert_eq!(tag(&"x".repeat(TAG_MAX_CHARS + 1)), None);
        assert_eq!(tag("Mindfulness").as_deref(), Some("mindfulness"));
        assert_eq!(search_tag(" Sleep").unwrap(), "sleep");
        assert_eq!(search_tag("").unwrap_err().field, "tag");
        assert_eq!(tags_of(&tags(&["ok", ""])).unwrap_err().field, "tags");
        let many: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert_eq!(tags_of(&many).unwrap_err().field, "tags");
        assert_eq!(tags_of(&many[..TAGS_MAX]).unwrap().len(), TAGS_MAX);
    }
}
