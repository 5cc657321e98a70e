//! The ports: what the domain needs from the outside world, as traits.
//!
//! The store port is shaped like DynamoDB — items under a partition and sort
//! key, conditional writes, small all-or-nothing transactions and queries by
//! key prefix — so both the DynamoDB adapter and the in-memory adapter can
//! honour exactly the same semantics (see the contract suite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The primary key of a stored item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// A stored item: its key, a JSON document, an optimistic-locking version and
/// an optional expiry (epoch seconds). An item whose `expires_at` is not in the
/// future is absent on every read and for every condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub key: Key,
    pub body: serde_json::Value,
    /// Bumped by the store on every write; starts at 1.
    pub version: u64,
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(key: Key, body: serde_json::Value, expires_at: Option<i64>) -> Self {
        Self { key, body, version: 0, expires_at }
    }

    /// Whether the item is still live at `now` (epoch seconds).
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// A condition a write must meet, evaluated against the live item (an expired
/// item counts as absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Write unconditionally.
    Always,
    /// No live item exists under the key.
    NotExists,
    /// A live item exists under the key.
    Exists,
    /// A live item exists under the key with exactly this version.
    Version(u64),
    /// A live item exists under the key with exactly this expiry (a counter
    /// whose last event is the one that was read: counts restart at 1, so a
    /// version alone cannot tell an old counter from a new one).
    ExpiresAt(i64),
}

impl Condition {
    /// The version a put under this condition stores. Both adapters use this
    /// rule so they agree: a versioned put stores `v + 1`, a create stores 1,
    /// and a blind put (whose previous version is unknown without an extra
    /// read) stores the current epoch milliseconds, which is larger than any
    /// counter reached by versioned puts in practice.
    pub fn next_version(self, now_millis: i64) -> u64 {
        match self {
            Condition::Version(v) => v + 1,
            Condition::NotExists => 1,
            Condition::Always | Condition::Exists | Condition::ExpiresAt(_) => now_millis.max(1) as u64,
        }
    }
}

/// One write of a transaction.
#[derive(Clone, Debug)]
pub enum Write {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Checks a condition without writing.
    Check {
        key: Key,
        condition: Condition,
    },
    /// Adds 1 to the counter under `key` if it stands below `below` (a
    /// missing counter starts from 0 and expires at `expires_at`); its
    /// condition fails at `below`. Folds a counter into the transaction of
    /// what it guards, so a rate limit or a code's tries cost no round
    /// trip of their own. Only for keys never counted again once expired (a
    /// fixed window's count, a code's tries): an expired counter DynamoDB
    /// has not removed yet may be counted on rather than restarted.
    Count {
        key: Key,
        below: u64,
        expires_at: i64,
    },
}

impl Write {
    /// The key the write is for.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } | Write::Count { key, .. } => key,
        }
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A condition did not hold; nothing was written. For a transaction,
    /// `index` is the position of the first write whose condition failed.
    #[error("condition failed (write {index})")]
    ConditionFailed { index: usize },
    /// The store could not be reached or refused the call; nothing is known
    /// to have been written (transactions are all-or-nothing).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Key-value storage with conditional writes, transactions and TTL.
#[async_trait]
pub trait Store: Send + Sync {
    /// The live item under `key`, if any.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// The live items under `keys` (distinct, at most 100), in their order,
    /// read together in one round trip.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;
    /// Writes `item` (its version is set by the store) if `condition` holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;
    /// Deletes the item under `key` if `condition` holds.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;
    /// Applies every write or none (at most 100 writes, distinct keys).
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// Atomically adds 1 to the counter under `key` (creating it at 0 with
    /// `expires_at`) and returns the new count. Counters use one key per time
    /// window, so an expired counter is never counted again.
    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError>;
    /// Atomically adds 1 to the counter under `key` unless it has already
    /// reached `max` (a missing or expired counter starts from 0 and expires
    /// at `expires_at`). Returns the new count, or `None` when the counter
    /// stood at `max`: one conditional update, so parallel callers are
    /// counted one by one and never more than `max` of them get through.
    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError>;
    /// Atomically adds 1 to the counter under `key` and moves its expiry to
    /// `expires_at` (a missing or expired counter starts from 0). Returns the
    /// new count and the expiry the counter had before (`None` when it started
    /// afresh), which tells the caller when the previous event was counted.
    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError>;
    /// One page of the live items of partition `pk` whose sort key starts
    /// with `sk_prefix`, in ascending (or descending) sort-key order: those
    /// after `start_after` (exclusive, in that order; any sort key, typically
    /// the previous page's [`Page::last_evaluated`]), at most `limit` (0
    /// reads as 1). Like DynamoDB's `Query`, a page may hold fewer items even
    /// when more follow (expired items are skipped, a page reads at most
    /// 1 MB): only `last_evaluated == None` says the partition is done.
    async fn query(
        &self,
        pk: &str,
        sk_prefix: &str,
        descending: bool,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Page, StoreError>;

    /// Every live item of partition `pk` under `sk_prefix`, in ascending
    /// sort-key order, read page by page: for partitions that are small by
    /// design (a user's passkeys, the tenants), never for one that grows
    /// with use (an audit trail, an index of users).
    async fn query_all(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self.query(pk, sk_prefix, false, start.as_deref(), QUERY_ALL_PAGE).await?;
            all.extend(page.items);
            match page.last_evaluated {
                Some(last) => start = Some(last),
                None => return Ok(all),
            }
        }
    }
}

/// The page size of [`Store::query_all`].
const QUERY_ALL_PAGE: usize = 1000;

/// One page of a [`Store::query`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The live items found, in the query's order.
    pub items: Vec<Item>,
    /// The sort key the query stopped at (DynamoDB's `LastEvaluatedKey`)
    /// when more items may follow: the `start_after` of the next page.
    /// `None` when the query reached the end of the partition or prefix.
    pub last_evaluated: Option<String>,
}

/// What [`Store::tally`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The count including this event.
    pub count: u64,
    /// The counter's expiry before this event; `None` when it started afresh.
    pub previous_expiry: Option<i64>,
}

/// An e-mail ready to send.
#[derive(Clone, Debug, Serialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub language: String,
}

/// A text message ready to send.
#[derive(Clone, Debug, Serialize)]
pub struct Sms {
    pub to: String,
    pub text: String,
    pub language: String,
}

/// A message could not be handed to the provider.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("delivery failed: {0}")]
pub struct SendError(pub String);

/// Sends e-mail (SES v2 in production, the outbox locally).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send_email(&self, email: &Email) -> Result<(), SendError>;
}

/// Sends SMS (SNS in production, the outbox locally).
#[async_trait]
pub trait Texter: Send + Sync {
    async fn send_sms(&self, sms: &Sms) -> Result<(), SendError>;
}

/// What a hook answered: `None` for 404 or an empty body (SPEC: "no
/// answer"; a Lambda function's empty or `null` payload), else its JSON.
pub type HookAnswer = Option<serde_json::Value>;

/// A hook could not be called, timed out, failed (a status other than 2xx
/// or 404; a Lambda function that threw) or answered something that is not
/// JSON.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("hook failed: {0}")]
pub struct HookError(pub String);

/// Where a blocking hook is called: an HTTPS endpoint or, deployed, a Lambda
/// function (a hook's `url` or `lambda_arn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookTarget<'a> {
    /// A POST signed per the Standard Webhooks specification.
    Url(&'a str),
    /// An `Invoke` (RequestResponse) of the function of this ARN.
    Lambda(&'a str),
}

/// Calls a tenant's blocking hooks: an HTTPS POST (plain HTTP to a loopback
/// address, for local runs) signed per the Standard Webhooks specification,
/// or a Lambda `Invoke` of the configured function with the same JSON; and
/// delivers events (HTTP only). `domain::hooks` decides what to send and
/// what an answer means.
#[async_trait]
pub trait HookCaller: Send + Sync {
    /// Sends `payload` to `target`, waiting at most `timeout`. `message_id`
    /// identifies the call (Standard Webhooks' `webhook-id`).
    async fn call(
        &self,
        target: HookTarget<'_>,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: std::time::Duration,
    ) -> Result<HookAnswer, HookError>;

    /// POSTs `payload` to `url` as an event delivery (`message_id`: the
    /// event's id, the same on every retry), waiting at most `timeout`: only
    /// a 2xx answer counts as delivered, whatever its body.
    async fn deliver(
        &self,
        url: &str,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: std::time::Duration,
    ) -> Result<(), HookError>;
}

/// The current time; controllable in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Cryptographically secure randomness; controllable in tests.
pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]);

    /// A uniformly random integer below `bound` (rejection sampling, no bias).
    fn below(&self, bound: u32) -> u32 {
        assert!(bound > 0);
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let mut b = [0u8; 4];
            self.fill(&mut b);
            let v = u32::from_le_bytes(b);
            if v < zone {
                return v % bound;
            }
        }
    }
}

/// A call to another identity provider failed: unreachable, timed out, or
/// an answer too large or not JSON where JSON was due.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("identity provider: {0}")]
pub struct ProviderError(pub String);

/// Registrar as the relying party of other identity providers (SPEC §14):
/// the HTTP calls to them (discovery, keys, the token endpoint), and the
/// secrets of Registrar's clients there.
#[async_trait]
pub trait ProviderClient: Send + Sync {
    /// GETs a JSON document (discovery, a JWKS).
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, ProviderError>;

    /// POSTs `form` (`application/x-www-form-urlencoded`), with HTTP Basic
    /// `(user, password)` when given: the answer's status and its JSON
    /// (`Null` when the body is not JSON).
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), ProviderError>;

    /// The text of the secret `name` (a Secrets Manager name or ARN).
    async fn secret(&self, name: &str) -> Result<String, ProviderError>;
}
