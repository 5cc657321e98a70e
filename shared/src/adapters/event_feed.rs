//! The local stand-in for the table's stream: a store that hands the event
//! items of every committed write to the in-process dispatcher
//! (`domain::events::run_dispatcher`), as DynamoDB Streams hands them to
//! `publish-events` deployed. Only what was committed is handed on: a
//! transaction whose condition failed wrote no event, and none is sent.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc::UnboundedSender;

use crate::ports::{Condition, Item, Key, Page, Store, StoreError, Tally, Write};
use crate::table::EventRecord;

/// A store that feeds the events it commits to a dispatcher.
pub struct EventFeed {
    inner: Arc<dyn Store>,
    feed: UnboundedSender<EventRecord>,
}

impl EventFeed {
    pub fn new(inner: Arc<dyn Store>, feed: UnboundedSender<EventRecord>) -> Self {
        Self { inner, feed }
    }

    fn hand_on<'a>(&self, items: impl Iterator<Item = &'a Item>) {
        for event in items.filter_map(EventRecord::from_item) {
            // A dispatcher that is gone (the process is ending) loses nothing
            // a deployed stack would keep: the item stays in the table.
            let _ = self.feed.send(event);
        }
    }
}

#[async_trait]
impl Store for EventFeed {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let event = EventRecord::from_item(&item);
        self.inner.put(item, condition).await?;
        if let Some(event) = event {
            let _ = self.feed.send(event);
        }
        Ok(())
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let events: Vec<Item> = writes
            .iter()
            .filter_map(|write| match write {
                Write::Put { item, .. } if EventRecord::from_item(item).is_some() => Some(item.clone()),
                _ => None,
            })
            .collect();
        self.inner.transact(writes).await?;
        self.hand_on(events.iter());
        Ok(())
    }
    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        self.inner.increment(key, expires_at).await
    }
    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        self.inner.increment_below(key, max, expires_at).await
    }
    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        self.inner.tally(key, expires_at).await
    }
    async fn query(
        &self,
        pk: &str,
        sk_prefix: &str,
        descending: bool,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.inner.query(pk, sk_prefix, descending, start_after, limit).await
    }
}

/// Puts `app`'s store behind an event feed and starts the dispatcher on the
/// store as it was (its reads of tenants are not the requests'); returns the
/// app that feeds it.
pub fn with_dispatcher(mut app: crate::app::App, backoff: crate::domain::events::Backoff) -> crate::app::App {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(crate::domain::events::run_dispatcher(app.clone(), receiver, backoff));
    app.store = Arc::new(EventFeed::new(app.store.clone(), sender));
    app
}
