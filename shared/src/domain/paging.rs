//! Paging through a partition with the store's own cursor (the audit trail and
//! the user searches of docs/back-office.md): an API page is one page of
//! `Store::query`, and its cursor is the sort key the store stopped at, so any
//! page of any partition is reachable and a page reads no more than itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::Error;
use crate::ports::{Item, Page, Store, StoreError};

/// The longest sort key DynamoDB takes (1024 bytes): a longer cursor
/// cannot be one the API gave out.
const MAX_SORT_KEY_BYTES: usize = 1024;

/// Where the previous page stopped, as the API's `next` gives it out: the
/// store's last evaluated sort key, base64url without padding (opaque to
/// callers, who only pass it back as `before` or `after`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor as a request gives it: `invalid_cursor` for anything that
    /// does not decode to a sort key.
    pub fn parse(raw: &str) -> Result<Cursor, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| "invalid_cursor")?;
        let sort_key = String::from_utf8(bytes).map_err(|_| "invalid_cursor")?;
        if sort_key.is_empty() || sort_key.len() > MAX_SORT_KEY_BYTES {
            return Err("invalid_cursor");
        }
        Ok(Cursor(sort_key))
    }

    /// The cursor of a page that stopped at `sort_key`.
    pub fn encode(sort_key: &str) -> String {
        URL_SAFE_NO_PAD.encode(sort_key)
    }

    /// The sort key to start after, when it lies under `prefix` (the listing's
    /// own sort keys); a cursor of another listing is a field error of `field`.
    pub fn start_after(&self, prefix: &str, field: &str) -> Result<&str, Error> {
        if self.0.starts_with(prefix) { Ok(&self.0) } else { Err(Error::field(field, "invalid_cursor")) }
    }
}

/// One page, in ascending sort key order, of the items under `prefix` in
/// all of `partitions` (the shards of one partition, see
/// `table::shards_of`) after the sort key `start_after`: as if they were
/// one partition, so the cursor is the same sort key as unsharded and a
/// page keeps the sort order. Every partition is queried at once for
/// `limit` items; the page ends where the first partition that has more
/// stopped, so nothing is skipped. An item under the same sort key in two
/// partitions (an entry written before and after sharding) is listed once.
pub async fn query_merged(
    store: &dyn Store,
    partitions: &[String],
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Page, StoreError> {
    let limit = limit.max(1);
    let queries = partitions.iter().map(|pk| store.query(pk, prefix, false, start_after, limit));
    let pages = futures_util::future::try_join_all(queries).await?;
    // Past the least sort key a partition stopped at, items of that
    // partition may be missing from this page: the page ends there.
    let bound = pages.iter().filter_map(|page| page.last_evaluated.clone()).min();
    let mut items: Vec<Item> = pages
        .into_iter()
        .flat_map(|page| page.items)
        .filter(|item| bound.as_ref().is_none_or(|bound| item.key.sk <= *bound))
        .collect();
    items.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
    items.dedup_by(|a, b| a.key.sk == b.key.sk);
    let more = items.len() > limit || bound.is_some();
    items.truncate(limit);
    let last_evaluated = if more { items.last().map(|item| item.key.sk.clone()).or(bound) } else { None };
    Ok(Page { items, last_evaluated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_nothing_else_parses() {
        let next = Cursor::encode("AUDIT#20260101T000000.000000Z#evt_1");
        let cursor = Cursor::parse(&next).unwrap();
        assert_eq!(cursor.start_after("AUDIT#", "before").unwrap(), "AUDIT#20260101T000000.000000Z#evt_1");
        assert!(cursor.start_after("USER#", "after").is_err(), "another listing's cursor");
        for bad in ["", "not base64!", "QUJD=", "_w", &URL_SAFE_NO_PAD.encode("x".repeat(1025))] {
            assert_eq!(Cursor::parse(bad), Err("invalid_cursor"), "{bad:?}");
        }
        assert!(Cursor::parse(&URL_SAFE_NO_PAD.encode("x".repeat(1024))).is_ok());
    }
}
