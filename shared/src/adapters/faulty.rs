//! Decorators that make a dependency fail on demand, and count calls. Used by
//! the tests to prove that a failing store, SES or SNS leaves nothing
//! half-written; compiled only for tests (`test-support` feature).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;

use crate::ports::{
    Condition, Email, Item, Key, Mailer, Page, SendError, Sms, Store, StoreError, Tally, Texter, Write,
};

/// A store that fails every call from the `n`-th on (counting from 0) while
/// armed, and counts the calls made to it.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
    fail_from: AtomicU64,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, calls: AtomicU64::new(0), fail_from: AtomicU64::new(u64::MAX) }
    }

    /// Makes the call `after` calls from now fail, and every one after it.
    pub fn fail_after(&self, after: u64) {
        let now = self.calls.load(Ordering::SeqCst);
        self.fail_from.store(now + after, Ordering::SeqCst);
    }

    /// Stops failing.
    pub fn heal(&self) {
        self.fail_from.store(u64::MAX, Ordering::SeqCst);
    }

    /// How many calls (round trips) were made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call >= self.fail_from.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("injected store failure".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.check()?;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.check()?;
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.check()?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.increment(key, expires_at).await
    }
    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        self.check()?;
        self.inner.increment_below(key, max, expires_at).await
    }
    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        self.check()?;
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
        self.check()?;
        self.inner.query(pk, sk_prefix, descending, start_after, limit).await
    }
}

/// Forwards e-mail and SMS to inner adapters unless switched to failing, and
/// keeps a copy of everything that was sent.
pub struct FlakySender {
    mailer: Arc<dyn Mailer>,
    texter: Arc<dyn Texter>,
    fail_email: AtomicBool,
    fail_sms: AtomicBool,
    sent: std::sync::Mutex<Vec<Sent>>,
}

/// A message that went through a [`FlakySender`].
#[derive(Clone, Debug)]
pub enum Sent {
    Email(Email),
    Sms(Sms),
}

impl FlakySender {
    pub fn new(mailer: Arc<dyn Mailer>, texter: Arc<dyn Texter>) -> Self {
        Self {
            mailer,
            texter,
            fail_email: AtomicBool::new(false),
            fail_sms: AtomicBool::new(false),
            sent: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn fail_email(&self, fail: bool) {
        self.fail_email.store(fail, Ordering::SeqCst);
    }

    pub fn fail_sms(&self, fail: bool) {
        self.fail_sms.store(fail, Ordering::SeqCst);
    }

    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, message: Sent) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(message);
    }
}

#[async_trait]
impl Mailer for FlakySender {
    async fn send_email(&self, email: &Email) -> Result<(), SendError> {
        if self.fail_email.load(Ordering::SeqCst) {
            return Err(SendError("injected e-mail failure".into()));
        }
        self.mailer.send_email(email).await?;
        self.record(Sent::Email(email.clone()));
        Ok(())
    }
}

#[async_trait]
impl Texter for FlakySender {
    async fn send_sms(&self, sms: &Sms) -> Result<(), SendError> {
        if self.fail_sms.load(Ordering::SeqCst) {
            return Err(SendError("injected SMS failure".into()));
        }
        self.texter.send_sms(sms).await?;
        self.record(Sent::Sms(sms.clone()));
        Ok(())
    }
}

/// A mailer and texter that only records (for tests without an outbox).
#[derive(Default)]
pub struct Discard;

#[async_trait]
impl Mailer for Discard {
    async fn send_email(&self, _: &Email) -> Result<(), SendError> {
        Ok(())
    }
}

#[async_trait]
impl Texter for Discard {
    async fn send_sms(&self, _: &Sms) -> Result<(), SendError> {
        Ok(())
    }
}
