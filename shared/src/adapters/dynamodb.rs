//! The DynamoDB store: one table, string keys `pk`/`sk`, the document in
//! `body`, an optimistic-locking `ver`, and the TTL attribute `expires_at`.
//!
//! DynamoDB deletes expired items lazily, so every read filters on
//! `expires_at` and every condition treats an expired item as absent.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, ConditionCheck, Delete, KeySchemaElement, KeyType, KeysAndAttributes, Put,
    ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};

use crate::ports::{Clock, Condition, Item, Key, Page, Store, StoreError, Tally, Write};

/// How often a cancelled-but-undecided transaction is tried again.
pub const TRANSACTION_RETRIES: u32 = 5;

/// [`Store`] on one DynamoDB table.
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

type Attrs = HashMap<String, AttributeValue>;

/// An expression with its placeholder values.
struct Expr {
    text: Option<String>,
    values: Attrs,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

const LIVE: &str = "(attribute_not_exists(expires_at) OR expires_at > :now)";

fn condition_expr(condition: Condition, now: i64) -> Expr {
    let now_value = || HashMap::from([(":now".to_owned(), n(now))]);
    match condition {
        Condition::Always => Expr { text: None, values: HashMap::new() },
        Condition::NotExists => {
            Expr { text: Some("attribute_not_exists(pk) OR expires_at <= :now".into()), values: now_value() }
        }
        Condition::Exists => Expr { text: Some(format!("attribute_exists(pk) AND {LIVE}")), values: now_value() },
        Condition::ExpiresAt(at) => {
            let mut values = now_value();
            values.insert(":exp".into(), n(at));
            Expr { text: Some("expires_at = :exp AND expires_at > :now".into()), values }
        }
        Condition::Version(v) => {
            let mut values = now_value();
            values.insert(":ver".into(), n(v));
            Expr { text: Some(format!("ver = :ver AND {LIVE}")), values }
        }
    }
}

/// The update, condition and values of a [`Write::Count`]: the count lives
/// in `ver`, as the counters' do.
fn count_expr(below: u64, expires_at: i64) -> (&'static str, &'static str, HashMap<String, AttributeValue>) {
    let values = HashMap::from([
        (":one".to_owned(), n(1)),
        (":below".to_owned(), n(below)),
        (":exp".to_owned(), n(expires_at)),
        (":body".to_owned(), s("{}")),
    ]);
    (
        "ADD ver :one SET expires_at = if_not_exists(expires_at, :exp), body = if_not_exists(body, :body)",
        "attribute_not_exists(pk) OR ver < :below",
        values,
    )
}

fn unavailable<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

fn item_to_attrs(item: &Item, version: Option<u64>) -> Attrs {
    let mut attrs = key_attrs(&item.key);
    attrs.insert("body".into(), s(&item.body.to_string()));
    if let Some(v) = version {
        attrs.insert("ver".into(), n(v));
    }
    if let Some(at) = item.expires_at {
        attrs.insert("expires_at".into(), n(at));
    }
    attrs
}

fn attrs_to_item(attrs: &Attrs) -> Result<Item, StoreError> {
    let text = |name: &str| match attrs.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.as_str()),
        _ => Err(StoreError::Unavailable(format!("item without string attribute {name}"))),
    };
    let number = |name: &str| match attrs.get(name) {
        Some(AttributeValue::N(v)) => {
            v.parse::<i64>().map(Some).map_err(|_| StoreError::Unavailable(format!("bad number in {name}")))
        }
        None => Ok(None),
        _ => Err(StoreError::Unavailable(format!("attribute {name} is not a number"))),
    };
    let body =
        serde_json::from_str(text("body")?).map_err(|_| StoreError::Unavailable("item body is not JSON".into()))?;
    Ok(Item {
        key: Key::new(text("pk")?, text("sk")?),
        body,
        version: number("ver")?.unwrap_or(0) as u64,
        expires_at: number("expires_at")?,
    })
}

/// How often a counter update is tried when parallel callers keep creating
/// and expiring it under our feet (each round is at most three calls).
const COUNTER_ROUNDS: usize = 5;

fn counter_number(attrs: &Attrs, name: &str) -> Result<i64, StoreError> {
    match attrs.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| StoreError::Unavailable(format!("bad number in {name}"))),
        _ => Err(StoreError::Unavailable(format!("counter without {name}"))),
    }
}

impl DynamoStore {
    /// One conditional `UpdateItem` on a counter: the attributes asked for
    /// by `returns` (empty for `None`) when the condition held, `None` when
    /// it did not.
    async fn update_counter(
        &self,
        key: &Key,
        update: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
        returns: ReturnValue,
    ) -> Result<Option<Attrs>, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":now", n(self.now()))
            .return_values(returns);
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        let mut attempt = 0;
        loop {
            match request.clone().send().await {
                Ok(out) => return Ok(Some(out.attributes.unwrap_or_default())),
                Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                    return Ok(None);
                }
                // A transaction in flight on the counter (counters also
                // count inside transactions): wait it out.
                Err(err)
                    if attempt < TRANSACTION_RETRIES
                        && err.as_service_error().is_some_and(|e| e.is_transaction_conflict_exception()) =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * (1 << attempt))).await;
                }
                Err(err) => return Err(unavailable(err)),
            }
        }
    }

    /// Starts the counter under `key` at 1 where none is live; false when a
    /// live one exists (a parallel caller may just have started it).
    async fn start_counter(&self, key: &Key, expires_at: i64) -> Result<bool, StoreError> {
        let started = self
            .update_counter(
                key,
                "SET ver = :one, expires_at = :exp, body = :body",
                "attribute_not_exists(pk) OR expires_at <= :now",
                &[(":one", n(1)), (":exp", n(expires_at)), (":body", s("{}"))],
                ReturnValue::None,
            )
            .await?;
        Ok(started.is_some())
    }

    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table.into(), clock }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Creates the table (on-demand, TTL on `expires_at`). For tests and local
    /// runs only: deployed stacks get their table from `template.yaml`.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            // As the template's: the outbox's event items reach publish-events.
            .stream_specification(
                aws_sdk_dynamodb::types::StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewImage)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            )
            .send()
            .await;
        if let Err(err) = created {
            let exists = err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception());
            if !exists {
                return Err(unavailable(err));
            }
        }
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name("expires_at")
            .enabled(true)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // Enabling TTL twice is an error in DynamoDB; ignore "already enabled".
        let _ = self.client.update_time_to_live().table_name(&self.table).time_to_live_specification(ttl).send().await;
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let now = self.now();
        match out.item() {
            Some(attrs) => Ok(Some(attrs_to_item(attrs)?).filter(|i| i.is_live(now))),
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<Attrs> = keys.iter().map(key_attrs).collect();
        // BatchGetItem may leave keys unprocessed under load: ask again for
        // those, a few times, before calling the store unavailable.
        for attempt in 0..5 {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let out =
                self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(unavailable)?;
            for attrs in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let item = attrs_to_item(attrs)?;
                found.insert(item.key.clone(), item);
            }
            pending =
                out.unprocessed_keys().and_then(|u| u.get(&self.table)).map(|k| k.keys().to_vec()).unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable("BatchGetItem left keys unprocessed".into()));
        }
        let now = self.now();
        Ok(keys.iter().map(|key| found.remove(key).filter(|i| i.is_live(now))).collect())
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let now = self.clock.now();
        let version = condition.next_version(now.timestamp_millis());
        let expr = condition_expr(condition, now.timestamp());
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_to_attrs(&item, Some(version))))
            .set_condition_expression(expr.text)
            .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::ConditionFailed { index: 0 })
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let expr = condition_expr(condition, self.now());
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(expr.text)
            .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::ConditionFailed { index: 0 })
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // A count whose cap is 0 refuses at once: `attribute_not_exists`
        // would let a missing counter through.
        if let Some(index) = writes.iter().position(|w| matches!(w, Write::Count { below: 0, .. })) {
            return Err(StoreError::ConditionFailed { index });
        }
        // A count alone is one plain update (half a transaction's units).
        if let [Write::Count { key, below, expires_at }] = writes.as_slice() {
            let (update, condition, values) = count_expr(*below, *expires_at);
            let mut attempt = 0;
            loop {
                let out = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .update_expression(update)
                    .condition_expression(condition)
                    .set_expression_attribute_values(Some(values.clone()))
                    .send()
                    .await;
                match out {
                    Ok(_) => return Ok(()),
                    Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                        return Err(StoreError::ConditionFailed { index: 0 });
                    }
                    // A transaction in flight on the counter: wait it out.
                    Err(err)
                        if attempt < TRANSACTION_RETRIES
                            && err.as_service_error().is_some_and(|e| e.is_transaction_conflict_exception()) =>
                    {
                        attempt += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(10 * (1 << attempt))).await;
                    }
                    Err(err) => return Err(unavailable(err)),
                }
            }
        }
        let now = self.clock.now();
        let mut items = Vec::with_capacity(writes.len());
        for write in &writes {
            let built = match write {
                Write::Put { item, condition } => {
                    let version = condition.next_version(now.timestamp_millis());
                    let expr = condition_expr(*condition, now.timestamp());
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item_to_attrs(item, Some(version))))
                        .set_condition_expression(expr.text)
                        .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    TransactWriteItem::builder().put(put).build()
                }
                Write::Delete { key, condition } => {
                    let expr = condition_expr(*condition, now.timestamp());
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .set_condition_expression(expr.text)
                        .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                Write::Check { key, condition } => {
                    let expr = condition_expr(*condition, now.timestamp());
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .set_condition_expression(Some(
                            expr.text.unwrap_or_else(|| "attribute_exists(pk) OR attribute_not_exists(pk)".into()),
                        ))
                        .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
                Write::Count { key, below, expires_at } => {
                    let (update, condition, values) = count_expr(*below, *expires_at);
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .update_expression(update)
                        .condition_expression(condition)
                        .set_expression_attribute_values(Some(values))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    TransactWriteItem::builder().update(update).build()
                }
            };
            items.push(built);
        }
        // DynamoDB cancels a transaction that collides with another one in
        // flight on the same item (`TransactionConflict`) or that it throttles
        // (`ThrottlingError` among the reasons) without deciding any
        // condition; retry those few times, with one idempotency token, so a
        // retry never applies the writes twice and the caller sees the real
        // outcome. Throttling of the whole request and 5xx answers are the
        // SDK's own retries (standard mode); nothing else is retried here.
        let token = uuid::Uuid::new_v4().to_string();
        let mut attempt = 0;
        loop {
            let out = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let err = match out {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                    c.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                }
                _ => Vec::new(),
            };
            if let Some(index) = reasons.iter().position(|r| r.as_deref() == Some("ConditionalCheckFailed")) {
                return Err(StoreError::ConditionFailed { index });
            }
            let retryable =
                reasons.iter().any(|r| matches!(r.as_deref(), Some("TransactionConflict" | "ThrottlingError")))
                    || err.as_service_error().is_some_and(|e| {
                        e.is_transaction_in_progress_exception()
                            || e.is_provisioned_throughput_exceeded_exception()
                            || e.is_request_limit_exceeded()
                            || e.is_throttling_exception()
                    });
            if retryable && attempt < TRANSACTION_RETRIES {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10 * (1 << attempt))).await;
                continue;
            }
            return Err(unavailable(err));
        }
    }

    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        // The count lives in `ver` so reads see it as the version too; the
        // document says where to find it.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression(
                "ADD ver :one SET expires_at = if_not_exists(expires_at, :exp), body = if_not_exists(body, :body)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":body", s("{}"))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        match out.attributes().and_then(|a| a.get("ver")) {
            Some(AttributeValue::N(count)) => {
                count.parse().map_err(|_| StoreError::Unavailable("counter is not a number".into()))
            }
            _ => Err(StoreError::Unavailable("counter missing from the answer".into())),
        }
    }

    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        for _ in 0..COUNTER_ROUNDS {
            // A live counter below the cap: add one.
            let added = self
                .update_counter(
                    key,
                    "ADD ver :one",
                    "attribute_exists(pk) AND expires_at > :now AND ver < :max",
                    &[(":one", n(1)), (":max", n(max))],
                    ReturnValue::UpdatedNew,
                )
                .await?;
            if let Some(attrs) = added {
                return Ok(Some(counter_number(&attrs, "ver")? as u64));
            }
            if max == 0 {
                return Ok(None);
            }
            // No live counter: start one (unless a parallel caller just did).
            if self.start_counter(key, expires_at).await? {
                return Ok(Some(1));
            }
            // Both conditions failed: the counter is live. At the cap it
            // stays there; below it, a parallel caller created it between
            // our two updates, so try again.
            let stored = self.get(key).await?;
            if stored.is_some_and(|item| item.version >= max) {
                return Ok(None);
            }
        }
        Err(StoreError::Unavailable("counter contended".into()))
    }

    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        for _ in 0..COUNTER_ROUNDS {
            let added = self
                .update_counter(
                    key,
                    "ADD ver :one SET expires_at = :exp",
                    "attribute_exists(pk) AND expires_at > :now",
                    &[(":one", n(1)), (":exp", n(expires_at))],
                    ReturnValue::AllOld,
                )
                .await?;
            if let Some(old) = added {
                let count = counter_number(&old, "ver")? as u64 + 1;
                return Ok(Tally { count, previous_expiry: Some(counter_number(&old, "expires_at")?) });
            }
            if self.start_counter(key, expires_at).await? {
                return Ok(Tally { count: 1, previous_expiry: None });
            }
        }
        Err(StoreError::Unavailable("counter contended".into()))
    }

    async fn query(
        &self,
        pk: &str,
        sk_prefix: &str,
        descending: bool,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let limit = limit.max(1);
        let start = match query_start(sk_prefix, descending, start_after) {
            QueryStart::Nothing => return Ok(Page::default()),
            QueryStart::Beginning => None,
            QueryStart::After(sk) => Some(key_attrs(&Key::new(pk, sk))),
        };
        let now = self.now();
        // DynamoDB refuses an empty string in a key condition.
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .filter_expression(LIVE)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":now", n(now));
        query = if sk_prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(sk_prefix))
        };
        // One item more than the page: when it comes back, more follow for
        // sure and the page ends at its own last item, so a page that ends
        // the partition says so (no empty page after it).
        let out = query
            .scan_index_forward(!descending)
            .consistent_read(true)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let mut items = Vec::with_capacity(out.items().len());
        for attrs in out.items() {
            let item = attrs_to_item(attrs)?;
            if item.is_live(now) {
                items.push(item);
            }
        }
        if items.len() > limit {
            items.truncate(limit);
            let last_evaluated = items.last().map(|i| i.key.sk.clone());
            return Ok(Page { items, last_evaluated });
        }
        // Fewer came back: the partition ended, or DynamoDB stopped early
        // (expired items filtered out of what it read, or 1 MB read), and
        // then its `LastEvaluatedKey` says where to go on.
        let last_evaluated = match out.last_evaluated_key().and_then(|key| key.get("sk")) {
            Some(AttributeValue::S(sk)) => Some(sk.clone()),
            Some(_) => return Err(StoreError::Unavailable("LastEvaluatedKey without a string sk".into())),
            None => None,
        };
        Ok(Page { items, last_evaluated })
    }
}

/// Where a query starts, for a start key that may lie outside the prefix
/// (DynamoDB refuses an `ExclusiveStartKey` outside the key condition, and
/// an empty sort key).
#[derive(Debug, PartialEq, Eq)]
enum QueryStart<'a> {
    /// Nothing under the prefix lies beyond the start key.
    Nothing,
    /// Everything under the prefix lies beyond it.
    Beginning,
    /// After this sort key, which is under the prefix.
    After(&'a str),
}

fn query_start<'a>(sk_prefix: &str, descending: bool, start_after: Option<&'a str>) -> QueryStart<'a> {
    match start_after {
        None => QueryStart::Beginning,
        Some(start) if !start.is_empty() && start.starts_with(sk_prefix) => QueryStart::After(start),
        // Every sort key under the prefix is greater than a start key below
        // the prefix (the empty one included), and smaller than one above it.
        Some(start) if (start < sk_prefix || start.is_empty()) != descending => QueryStart::Beginning,
        Some(_) => QueryStart::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::{QueryStart, query_start};

    #[test]
    fn start_keys_outside_the_prefix_start_at_an_end() {
        assert_eq!(query_start("AUDIT#", false, None), QueryStart::Beginning);
        assert_eq!(query_start("AUDIT#", true, Some("AUDIT#2")), QueryStart::After("AUDIT#2"));
        assert_eq!(query_start("AUDIT#", false, Some("AUDIT")), QueryStart::Beginning);
        assert_eq!(query_start("AUDIT#", true, Some("AUDIT")), QueryStart::Nothing);
        assert_eq!(query_start("AUDIT#", false, Some("B")), QueryStart::Nothing);
        assert_eq!(query_start("AUDIT#", true, Some("B")), QueryStart::Beginning);
        assert_eq!(query_start("", false, Some("")), QueryStart::Beginning);
        assert_eq!(query_start("", true, Some("")), QueryStart::Nothing);
        assert_eq!(query_start("", true, Some("X")), QueryStart::After("X"));
    }
}
