//! Persisted documents (DESIGN §5), for mobile apps:
//!
//! - **Automatic persisted queries** (Apollo's protocol): a request may carry
//!   `extensions.persistedQuery = { version: 1, sha256Hash }` instead of the
//!   query text. An unknown hash is `PERSISTED_QUERY_NOT_FOUND` (message
//!   `PersistedQueryNotFound`); the client then sends the text with the hash
//!   once and the server keeps it, so later requests, GETs included, carry
//!   only the hash and can be cached by URL.
//! - **Trusted documents** (`STEPDOWN_TRUSTED_DOCUMENTS=<file>`): only the
//!   documents in the file run. A request whose document (by hash, or by the
//!   hash of its text) is not there is refused with
//!   `TRUSTED_DOCUMENT_REQUIRED` before it is parsed. The file is a JSON
//!   object from each document's sha256 (hex) to its text, as
//!   `stepdown trusted-documents` writes it (and GraphQL Code Generator's
//!   client preset `persisted-documents.json` is).

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::Mutex,
};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Error codes of this protocol (`extensions.code`).
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
pub const TRUSTED_DOCUMENT_REQUIRED: &str = "TRUSTED_DOCUMENT_REQUIRED";

/// How many documents automatic persisted queries keep per process.
const APQ_CAPACITY: usize = 5_000;
/// The longest document kept (longer ones run but are not stored).
const APQ_MAX_DOCUMENT: usize = 64 * 1024;

/// The sha256 of a document's text, lower-case hex (Apollo's hash).
pub fn sha256_hex(document: &str) -> String {
    let digest = Sha256::digest(document.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a request's `persistedQuery` extension asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQuery {
    pub sha256: String,
}

/// Reads `extensions.persistedQuery`; `Err` names what is malformed.
pub fn persisted_query(
    extensions: Option<&Map<String, Value>>,
) -> Result<Option<PersistedQuery>, String> {
    let Some(value) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    let version = value.get("version").and_then(Value::as_i64);
    if version != Some(1) {
        return Err("`extensions.persistedQuery.version` must be 1".into());
    }
    match value.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(PersistedQuery {
                sha256: hash.to_ascii_lowercase(),
            }))
        }
        _ => Err("`extensions.persistedQuery.sha256Hash` must be a sha256 in hex".into()),
    }
}

/// Documents registered by clients (automatic persisted queries), bounded.
#[derive(Default)]
pub struct ApqCache {
    documents: Mutex<HashMap<String, String>>,
}

impl ApqCache {
    pub fn get(&self, sha256: &str) -> Option<String> {
        self.lock().get(sha256).cloned()
    }

    /// Keeps a document under its hash; when full, an arbitrary older one
    /// makes room (a client whose hash is gone just sends the text again).
    pub fn insert(&self, sha256: String, document: String) {
        if document.len() > APQ_MAX_DOCUMENT {
            return;
        }
        let mut documents = self.lock();
        if documents.len() >= APQ_CAPACITY
            && !documents.contains_key(&sha256)
            && let Some(evicted) = documents.keys().next().cloned()
        {
            documents.remove(&evicted);
        }
        documents.insert(sha256, document);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.documents.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The allowlist of trusted documents, by hash.
#[derive(Debug, Default)]
pub struct TrustedDocuments {
    documents: HashMap<String, String>,
}

impl TrustedDocuments {
    /// Reads a manifest file, checking every hash against its text.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Self::parse(&text).map_err(|problem| format!("`{}`: {problem}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
        let Value::Object(entries) = value else {
            return Err("expected a JSON object from sha256 to document".into());
        };
        let mut documents = HashMap::with_capacity(entries.len());
        for (hash, document) in entries {
            let Value::String(document) = document else {
                return Err(format!("the entry `{hash}` is not a string"));
            };
            if sha256_hex(&document) != hash.to_ascii_lowercase() {
                return Err(format!(
                    "the entry `{hash}` is not the sha256 of its document"
                ));
            }
            documents.insert(hash.to_ascii_lowercase(), document);
        }
        Ok(Self { documents })
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    pub fn get(&self, sha256: &str) -> Option<&str> {
        self.documents.get(sha256).map(String::as_str)
    }

    /// Whether this exact text is registered (checked by hash, unparsed).
    pub fn contains_text(&self, document: &str) -> bool {
        self.documents.contains_key(&sha256_hex(document))
    }
}

/// The document a request runs, once persisted queries are resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Document(String),
    /// Refused before parsing: `(code, message)`.
    Refused(&'static str, String),
}

/// Decides which document a request runs: its text, or the text its hash
/// names (registering it for later when the client sent both).
pub fn resolve(
    query: Option<String>,
    persisted: Option<PersistedQuery>,
    apq: &ApqCache,
    trusted: Option<&TrustedDocuments>,
) -> Resolved {
    let not_trusted = || {
        Resolved::Refused(
            TRUSTED_DOCUMENT_REQUIRED,
            "only registered documents run on this server (STEPDOWN_TRUSTED_DOCUMENTS): send a document's sha256 in extensions.persistedQuery".into(),
        )
    };
    match (query.filter(|q| !q.trim().is_empty()), persisted) {
        (Some(query), None) => match trusted {
            Some(trusted) if !trusted.contains_text(&query) => not_trusted(),
            _ => Resolved::Document(query),
        },
        (Some(query), Some(persisted)) => {
            if sha256_hex(&query) != persisted.sha256 {
                return Resolved::Refused(
                    "BAD_USER_INPUT",
                    "provided sha does not match query".into(),
                );
            }
            match trusted {
                Some(trusted) if trusted.get(&persisted.sha256).is_none() => not_trusted(),
                Some(_) => Resolved::Document(query),
                None => {
                    apq.insert(persisted.sha256, query.clone());
                    Resolved::Document(query)
                }
            }
        }
        (None, Some(persisted)) => match trusted {
            Some(trusted) => trusted
                .get(&persisted.sha256)
                .map_or_else(not_trusted, |d| Resolved::Document(d.to_owned())),
            None => apq.get(&persisted.sha256).map_or_else(
                || Resolved::Refused(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound".into()),
                Resolved::Document,
            ),
        },
        (None, None) => Resolved::Refused("BAD_USER_INPUT", "`query` is required".into()),
    }
}

/// Builds a trusted-documents manifest from `.graphql` files: each file is
/// one document, registered as written (clients send the same text).
/// Files that do not parse as GraphQL documents are an error naming them.
pub fn manifest(files: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (name, text) in files {
        let document = text.trim().to_owned();
        if document.is_empty() {
            continue;
        }
        async_graphql::parser::parse_query(&document)
            .map_err(|e| format!("{name}: not a GraphQL document: {e}"))?;
        out.insert(sha256_hex(&document), document);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ME: &str = "{ me { id } }";

    fn ext(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_hash_is_apollos_sha256_hex() {
        // sha256("{ me { id } }")
        assert_eq!(sha256_hex(ME).len(), 64);
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn persisted_query_extension_is_checked() {
        let hash = sha256_hex(ME);
        let ok = ext(json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }));
        assert_eq!(persisted_query(Some(&ok)).unwrap().unwrap().sha256, hash);
        assert_eq!(persisted_query(None).unwrap(), None);
        let bad = ext(json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }));
        assert!(persisted_query(Some(&bad)).is_err());
        let bad = ext(json!({ "persistedQuery": { "version": 1, "sha256Hash": "zz" } }));
        assert!(persisted_query(Some(&bad)).is_err());
    }

    #[test]
    fn apq_registers_then_serves_by_hash() {
        let apq = ApqCache::default();
        let pq = PersistedQuery {
            sha256: sha256_hex(ME),
        };
        assert_eq!(
            resolve(None, Some(pq.clone()), &apq, None),
            Resolved::Refused(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound".into())
        );
        assert_eq!(
            resolve(Some(ME.into()), Some(pq.clone()), &apq, None),
            Resolved::Document(ME.into())
        );
        assert_eq!(
            resolve(None, Some(pq), &apq, None),
            Resolved::Document(ME.into())
        );
        let wrong = PersistedQuery {
            sha256: sha256_hex("{ other }"),
        };
        assert!(matches!(
            resolve(Some(ME.into()), Some(wrong), &apq, None),
            Resolved::Refused("BAD_USER_INPUT", _)
        ));
    }

    #[test]
    fn trusted_mode_runs_only_registered_documents() {
        let manifest = manifest(&[("me.graphql".into(), format!("{ME}\n"))]).unwrap();
        let trusted = TrustedDocuments::parse(&serde_json::to_string(&manifest).unwrap()).unwrap();
        assert_eq!(trusted.len(), 1);
        let apq = ApqCache::default();
        let by_hash = PersistedQuery {
            sha256: sha256_hex(ME),
        };
        assert_eq!(
            resolve(None, Some(by_hash), &apq, Some(&trusted)),
            Resolved::Document(ME.into())
        );
        assert_eq!(
            resolve(Some(ME.into()), None, &apq, Some(&trusted)),
            Resolved::Document(ME.into())
        );
        // Not even parsed: a syntax error is refused the same way.
        for unknown in ["{ patients { edges { cursor } } }", "{{{ not graphql"] {
            assert!(matches!(
                resolve(Some(unknown.into()), None, &apq, Some(&trusted)),
                Resolved::Refused(TRUSTED_DOCUMENT_REQUIRED, _)
            ));
        }
        // Registering through APQ is not a way around the allowlist.
        let other = "{ medications { id } }";
        let pq = PersistedQuery {
            sha256: sha256_hex(other),
        };
        assert!(matches!(
            resolve(Some(other.into()), Some(pq.clone()), &apq, Some(&trusted)),
            Resolved::Refused(TRUSTED_DOCUMENT_REQUIRED, _)
        ));
        assert!(matches!(
            resolve(None, Some(pq), &apq, Some(&trusted)),
            Resolved::Refused(TRUSTED_DOCUMENT_REQUIRED, _)
        ));
    }

    #[test]
    fn a_manifest_with_a_wrong_hash_or_a_bad_file_is_refused() {
        assert!(TrustedDocuments::parse(r#"{"00": "{ me { id } }"}"#).is_err());
        assert!(TrustedDocuments::parse("[]").is_err());
        let err = manifest(&[("broken.graphql".into(), "query {".into())]).unwrap_err();
        assert!(err.starts_with("broken.graphql"), "{err}");
    }
}
