//! The embedded store: a map in memory with the same semantics as the
//! DynamoDB adapter (conditions, all-or-nothing transactions, expiry on read).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::ports::{Clock, Condition, Item, Key, Page, Store, StoreError, Tally, Write};

/// In-memory [`Store`] for local runs and fast tests.
pub struct MemoryStore {
    items: Mutex<BTreeMap<Key, Item>>,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { items: Mutex::new(BTreeMap::new()), clock }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Item>> {
        // A poisoned lock only means another thread panicked mid-call; the map
        // itself is always left consistent because writes happen after checks.
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn holds(items: &BTreeMap<Key, Item>, key: &Key, condition: Condition, now: i64) -> bool {
    let live = items.get(key).filter(|i| i.is_live(now));
    match condition {
        Condition::Always => true,
        Condition::NotExists => live.is_none(),
        Condition::Exists => live.is_some(),
        Condition::ExpiresAt(at) => live.is_some_and(|i| i.expires_at == Some(at)),
        Condition::Version(v) => live.is_some_and(|i| i.version == v),
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.now();
        Ok(self.lock().get(key).filter(|i| i.is_live(now)).cloned())
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let now = self.now();
        let items = self.lock();
        Ok(keys.iter().map(|key| items.get(key).filter(|i| i.is_live(now)).cloned()).collect())
    }

    async fn put(&self, mut item: Item, condition: Condition) -> Result<(), StoreError> {
        let now = self.now();
        let mut items = self.lock();
        if !holds(&items, &item.key, condition, now) {
            return Err(StoreError::ConditionFailed { index: 0 });
        }
        item.version = condition.next_version(self.clock.now().timestamp_millis());
        items.insert(item.key.clone(), item);
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let now = self.now();
        let mut items = self.lock();
        if !holds(&items, key, condition, now) {
            return Err(StoreError::ConditionFailed { index: 0 });
        }
        items.remove(key);
        Ok(())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.len() > 100 {
            return Err(StoreError::Unavailable("transaction over 100 writes".into()));
        }
        let now = self.now();
        let mut items = self.lock();
        for (index, write) in writes.iter().enumerate() {
            let (key, condition) = match write {
                Write::Put { item, condition } => (&item.key, *condition),
                Write::Delete { key, condition } | Write::Check { key, condition } => (key, *condition),
                Write::Count { key, below, .. } => {
                    let count = items.get(key).filter(|i| i.is_live(now)).map_or(0, |i| i.version);
                    if count >= *below {
                        return Err(StoreError::ConditionFailed { index });
                    }
                    continue;
                }
            };
            if !holds(&items, key, condition, now) {
                return Err(StoreError::ConditionFailed { index });
            }
        }
        let now_millis = self.clock.now().timestamp_millis();
        for write in writes {
            match write {
                Write::Put { mut item, condition } => {
                    item.version = condition.next_version(now_millis);
                    items.insert(item.key.clone(), item);
                }
                Write::Delete { key, .. } => {
                    items.remove(&key);
                }
                Write::Check { .. } => {}
                Write::Count { key, expires_at, .. } => {
                    let live = items.get(&key).filter(|i| i.is_live(now));
                    let item = Item {
                        key: key.clone(),
                        body: serde_json::json!({}),
                        version: live.map_or(0, |i| i.version) + 1,
                        expires_at: Some(live.and_then(|i| i.expires_at).unwrap_or(expires_at)),
                    };
                    items.insert(key, item);
                }
            }
        }
        Ok(())
    }

    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        let now = self.now();
        let mut items = self.lock();
        let live = items.get(key).filter(|i| i.is_live(now));
        // Like the DynamoDB adapter: the count is the item's version.
        let count = live.map_or(0, |i| i.version) + 1;
        let expires = live.and_then(|i| i.expires_at).unwrap_or(expires_at);
        let item = Item {
            key: key.clone(),
            body: live.map_or_else(|| serde_json::json!({}), |i| i.body.clone()),
            version: count,
            expires_at: Some(expires),
        };
        items.insert(key.clone(), item);
        Ok(count)
    }

    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        let now = self.now();
        let mut items = self.lock();
        let live = items.get(key).filter(|i| i.is_live(now));
        let count = live.map_or(0, |i| i.version);
        if count >= max {
            return Ok(None);
        }
        let item = Item {
            key: key.clone(),
            body: serde_json::json!({}),
            version: count + 1,
            expires_at: Some(live.and_then(|i| i.expires_at).unwrap_or(expires_at)),
        };
        items.insert(key.clone(), item);
        Ok(Some(count + 1))
    }

    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        let now = self.now();
        let mut items = self.lock();
        let live = items.get(key).filter(|i| i.is_live(now));
        let tally =
            Tally { count: live.map_or(0, |i| i.version) + 1, previous_expiry: live.and_then(|i| i.expires_at) };
        let item =
            Item { key: key.clone(), body: serde_json::json!({}), version: tally.count, expires_at: Some(expires_at) };
        items.insert(key.clone(), item);
        Ok(tally)
    }

    async fn query(
        &self,
        pk: &str,
        sk_prefix: &str,
        descending: bool,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let now = self.now();
        let limit = limit.max(1);
        let items = self.lock();
        let under_prefix = |key: &Key| key.pk == pk && key.sk.starts_with(sk_prefix);
        let first = Key::new(pk, sk_prefix);
        // One more than the page, to tell whether more follow.
        let found: Vec<&Item> = if descending {
            let upper = match start_after {
                // Every key under the prefix is at least the prefix.
                Some(start) if start <= sk_prefix => return Ok(Page::default()),
                Some(start) => Bound::Excluded(Key::new(pk, start)),
                // The smallest partition key after `pk` bounds its partition.
                None => Bound::Excluded(Key::new(format!("{pk}\0"), "")),
            };
            (items.range((Bound::Included(first), upper)).rev())
                .skip_while(|(k, _)| k.pk == pk && !k.sk.starts_with(sk_prefix))
                .take_while(|(k, _)| under_prefix(k))
                .map(|(_, i)| i)
                .filter(|i| i.is_live(now))
                .take(limit + 1)
                .collect()
        } else {
            let lower = match start_after {
                Some(start) if start >= sk_prefix => Bound::Excluded(Key::new(pk, start)),
                _ => Bound::Included(first),
            };
            (items.range((lower, Bound::Unbounded)))
                .take_while(|(k, _)| under_prefix(k))
                .map(|(_, i)| i)
                .filter(|i| i.is_live(now))
                .take(limit + 1)
                .collect()
        };
        let more = found.len() > limit;
        let items: Vec<Item> = found.into_iter().take(limit).cloned().collect();
        let last_evaluated = if more { items.last().map(|i| i.key.sk.clone()) } else { None };
        Ok(Page { items, last_evaluated })
    }
}
