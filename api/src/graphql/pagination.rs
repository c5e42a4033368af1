//! Relay connections (DESIGN §5): `first` (default 20, at most the
//! configured maximum) and an opaque `after` cursor. Lists are paged in SQL
//! by keyset on time-ordered UUID v7 ids, fetching one extra row to know
//! whether there is a next page.

use async_graphql::{
    OutputType,
    connection::{Connection, ConnectionNameType, Edge, EdgeNameType, EmptyFields},
};
use base64::Engine;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl Page {
    /// Rows to fetch: one more than asked, to see if a next page exists.
    pub fn fetch(&self) -> u64 {
        self.first + 1
    }
}

pub fn page(first: Option<i32>, after: Option<&str>, max: u64) -> ApiResult<Page> {
    let first = match first {
        None => DEFAULT_PAGE_SIZE.min(max),
        Some(n) if n >= 0 && (n as u64) <= max => n as u64,
        Some(_) => {
            return Err(ApiError::bad_input(
                "first",
                format!("first must be from 0 to {max}"),
            ));
        }
    };
    let after = after.map(decode_cursor).transpose()?;
    Ok(Page { first, after })
}

pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> ApiResult<Uuid> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_input("after", "after is not a cursor from this list"))
}

/// Builds the connection from up to `page.fetch()` rows, keyed by id.
pub fn connection<T: OutputType>(mut rows: Vec<(Uuid, T)>, page: Page) -> Connection<String, T> {
    let has_next = rows.len() as u64 > page.first;
    rows.truncate(page.first as usize);
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|(id, node)| Edge::new(encode_cursor(id), node)),
    );
    connection
}

/// For lists ordered in memory (e.g. by a computed risk): `after` is an
/// opaque position. Returns `(first, offset)`.
pub fn offset_page(first: Option<i32>, after: Option<&str>, max: u64) -> ApiResult<(u64, u64)> {
    let first = page(first, None, max)?.first;
    let offset = match after {
        None => 0,
        Some(cursor) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("at:").and_then(|n| n.parse::<u64>().ok()))
            .map(|n| n + 1)
            .ok_or_else(|| ApiError::bad_input("after", "after is not a cursor from this list"))?,
    };
    Ok((first, offset))
}

pub fn encode_offset(position: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("at:{position}"))
}

/// A connection over an in-memory ordered list, from `offset`.
pub fn offset_connection<T, N, E>(
    items: Vec<T>,
    first: u64,
    offset: u64,
) -> Connection<String, T, EmptyFields, EmptyFields, N, E>
where
    T: OutputType,
    N: ConnectionNameType,
    E: EdgeNameType,
{
    let total = items.len() as u64;
    let mut connection = Connection::new(offset > 0, offset + first < total);
    connection.edges.extend(
        items
            .into_iter()
            .enumerate()
            .skip(offset as usize)
            .take(first as usize)
            .map(|(i, node)| Edge::new(encode_offset(i as u64), node)),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded_and_cursors_round_trip() {
        assert_eq!(page(None, None, 100).unwrap().first, 20);
        assert_eq!(page(Some(100), None, 100).unwrap().first, 100);
        assert!(matches!(
            page(Some(101), None, 100),
            Err(ApiError::BadInput { field: Some(f), .. }) if f == "first"
        ));
        assert!(page(Some(-1), None, 100).is_err());
        let id = Uuid::now_v7();
        assert_eq!(
            page(None, Some(&encode_cursor(id)), 100).unwrap().after,
            Some(id)
        );
        assert!(matches!(
            page(None, Some("garbage!"), 100),
            Err(ApiError::BadInput { field: Some(f), .. }) if f == "after"
        ));
    }

    #[test]
    fn offset_cursors_continue_after_the_last_edge() {
        assert_eq!(offset_page(Some(5), None, 100).unwrap(), (5, 0));
        assert_eq!(
            offset_page(Some(5), Some(&encode_offset(4)), 100).unwrap(),
            (5, 5)
        );
        let c: Connection<String, i32> = offset_connection((0..12).collect(), 5, 10);
        assert_eq!(c.edges.len(), 2);
        assert!(!c.has_next_page && c.has_previous_page);
    }
}
