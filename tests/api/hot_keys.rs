//! No tenant-wide hot key (SPEC §15 "Scale"): a burst of sign-ups of one
//! tenant puts at most 0.1 writes per sign-up on any partition key that two
//! or more of its users write, so the tenant takes 10,000 sign-ups a second
//! before a key reaches DynamoDB's 1,000 write units a second.
//!
//! A store wrapper counts every write by partition key (a put, a delete,
//! each write and condition check of a transaction, an increment, a tally)
//! and which sign-up made it. First the sign-ups run one after another, so
//! that each write is told to its sign-up and "shared" is read from the
//! data (a key two sign-ups wrote); then as many again run 16 at a time,
//! where every key counts (one user's keys take a few writes of the whole
//! burst), so that a retry or conflict among sign-ups under way together
//! would show. Each sign-up comes from an address of its own (a client's
//! per-address counters are not the tenant's). Twice: a tenant that asks
//! for no phone, and one whose sign-ups verify a phone by SMS, so the SMS
//! budget counters (sharded in `domain::limits`) are written too.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use shared::adapters::memory::MemoryStore;
use shared::adapters::system::ManualClock;
use shared::domain::tenant::{Policy, SmsPolicy};
use shared::ports::{Condition, Item, Key, Page, Store, StoreError, Tally, Write};
use shared::testing::{TestApp, TestOptions, spawn_app};

use crate::common::{self, Answer, CODE, Flows};

/// How many users sign up in the burst.
const SIGN_UPS: usize = 256;

/// The most writes per sign-up a key shared by the tenant's users may take.
const MOST_PER_SIGN_UP: f64 = 0.1;

/// The writes to one partition key, and the sign-ups that made them.
#[derive(Default)]
struct KeyWrites {
    writes: u64,
    sign_ups: BTreeSet<usize>,
}

/// What the store counts the writes as.
#[derive(Clone, Copy)]
enum Counting {
    /// Nothing (the tenant's setup).
    Off,
    /// The writes of the `n`-th sign-up, alone under way.
    SignUp(usize),
    /// The writes of sign-ups under way at once (whose is not told).
    Burst,
}

/// A store that counts the writes by partition key.
struct CountingStore {
    inner: Arc<dyn Store>,
    counting: Mutex<Counting>,
    by_key: Mutex<BTreeMap<String, KeyWrites>>,
    in_burst: Mutex<BTreeMap<String, u64>>,
}

impl CountingStore {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            counting: Mutex::new(Counting::Off),
            by_key: Mutex::new(BTreeMap::new()),
            in_burst: Mutex::new(BTreeMap::new()),
        }
    }

    fn count_as(&self, counting: Counting) {
        *self.counting.lock().unwrap() = counting;
    }

    fn count(&self, key: &Key) {
        match *self.counting.lock().unwrap() {
            Counting::Off => {}
            Counting::SignUp(n) => {
                let mut by_key = self.by_key.lock().unwrap();
                let entry = by_key.entry(key.pk.clone()).or_default();
                entry.writes += 1;
                entry.sign_ups.insert(n);
            }
            Counting::Burst => *self.in_burst.lock().unwrap().entry(key.pk.clone()).or_default() += 1,
        }
    }

    /// The keys written by two sign-ups or more, with their writes.
    fn shared_keys(&self) -> Vec<(String, u64, usize)> {
        let by_key = self.by_key.lock().unwrap();
        let mut shared: Vec<_> = by_key
            .iter()
            .filter(|(_, w)| w.sign_ups.len() >= 2)
            .map(|(pk, w)| (pk.clone(), w.writes, w.sign_ups.len()))
            .collect();
        shared.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        shared
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.count(&item.key);
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.count(key);
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // A condition check of a transaction takes write units too.
        for write in &writes {
            self.count(write.key());
        }
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        self.count(key);
        self.inner.increment(key, expires_at).await
    }
    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        self.count(key);
        self.inner.increment_below(key, max, expires_at).await
    }
    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        self.count(key);
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

/// A client of the test app from an address of its own (any 127/8 address
/// is this host's).
struct Client<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
}

impl<'a> Client<'a> {
    fn from(app: &'a TestApp, n: usize) -> Self {
        let [_, _, high, low] = u32::try_from(n + 1).unwrap().to_be_bytes();
        let address = IpAddr::V4(Ipv4Addr::new(127, 2, high, low));
        let http = reqwest::Client::builder().local_address(address).build().expect("client");
        Self { app, http }
    }
}

impl Flows for Client<'_> {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        common::request(&self.http, self.app, method, path, body, headers).await
    }

    fn clock(&self) -> &ManualClock {
        &self.app.clock
    }
}

/// One sign-up from `client`: by e-mail alone, or (`phone`) with the
/// `n`-th phone number verified by SMS too.
async fn sign_up(client: &Client<'_>, email: &str, phone: bool, n: usize) -> Value {
    if !phone {
        return client.sign_up(email).await;
    }
    let body = serde_json::json!({
        "email": email, "password": common::PASSWORD, "first_name": "Anna", "last_name": "Muster",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let started = client.post("/v1/registrations", body, &[]).await;
    assert_eq!(started.status, reqwest::StatusCode::ACCEPTED, "{}", started.body);
    let id = started.body["registration_id"].as_str().expect("a registration").to_owned();
    let verified =
        client.post(&format!("/v1/registrations/{id}/email/verify"), serde_json::json!({ "code": CODE }), &[]).await;
    assert_eq!(verified.status, reqwest::StatusCode::OK, "{}", verified.body);
    let number = format!("+4179{:07}", 1_000_000 + n);
    let added =
        client.post(&format!("/v1/registrations/{id}/phone"), serde_json::json!({ "phone": number }), &[]).await;
    assert_eq!(added.status, reqwest::StatusCode::ACCEPTED, "{}", added.body);
    let done =
        client.post(&format!("/v1/registrations/{id}/phone/verify"), serde_json::json!({ "code": CODE }), &[]).await;
    assert_eq!(done.status, reqwest::StatusCode::CREATED, "{}", done.body);
    done.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_shared_by_the_tenants_users_takes_a_tenth_of_its_sign_ups() {
    burst_of_sign_ups(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_shared_by_the_tenants_users_takes_a_tenth_of_its_sign_ups_by_sms() {
    burst_of_sign_ups(true).await;
}

async fn burst_of_sign_ups(phone: bool) {
    let clock = Arc::new(ManualClock::at_test_start());
    let store = Arc::new(CountingStore::new(Arc::new(MemoryStore::new(clock.clone()))));
    // Budgets a tenant at 10,000 sign-ups a second would set (a text each).
    let sms = SmsPolicy { per_hour: 36_000_000, per_day: 864_000_000, ..SmsPolicy::default() };
    let policy = Policy { phone_required: phone, sandbox_code: Some(CODE.into()), sms, ..Policy::default() };
    let options = TestOptions { policy, store: Some(store.clone()), clock: Some(clock), ..TestOptions::default() };
    let app = spawn_app(options).await;
    for n in 0..SIGN_UPS {
        store.count_as(Counting::SignUp(n));
        let tokens = sign_up(&Client::from(&app, n), &format!("one-{n}@example.com"), phone, n).await;
        assert!(tokens["access_token"].is_string(), "{tokens}");
    }
    store.count_as(Counting::Off);

    let shared = store.shared_keys();
    let per_sign_up = |writes: u64| writes as f64 / SIGN_UPS as f64;
    let busiest = shared.first().map_or(0.0, |(_, writes, _)| per_sign_up(*writes));
    let line = |(pk, writes, users): &(String, u64, usize)| {
        format!("{pk}: {writes} writes by {users} sign-ups ({:.3} a sign-up)", per_sign_up(*writes))
    };
    let busiest_keys: Vec<String> = shared.iter().take(8).map(line).collect();
    println!(
        "busiest shared keys over {SIGN_UPS} sign-ups (max {busiest:.3} writes a sign-up):\n  {}",
        busiest_keys.join("\n  ")
    );
    let hot: Vec<String> =
        shared.iter().filter(|(_, writes, _)| per_sign_up(*writes) > MOST_PER_SIGN_UP).map(line).collect();
    assert!(
        hot.is_empty(),
        "keys shared by the tenant's users over {MOST_PER_SIGN_UP} writes a sign-up:\n  {}",
        hot.join("\n  ")
    );
    // The indexes and the outbox are sharded, not gone.
    assert!(shared.iter().any(|(pk, ..)| pk.contains("#STATUS#active#")), "no status index written");
    assert!(shared.iter().any(|(pk, ..)| pk.starts_with("EVENT#")), "no event written");
    if phone {
        assert!(shared.iter().any(|(pk, ..)| pk.starts_with("RATE#sms-hour#")), "no SMS budget counted");
    }

    // As many again, 16 at a time: no retry or conflict of sign-ups under
    // way together adds writes to a key. Whose a write is goes untold, so
    // every key counts; one user's keys take a few writes of the burst.
    store.count_as(Counting::Burst);
    let sign_up = |n: usize| {
        let app = &app;
        async move {
            let tokens = sign_up(&Client::from(app, n), &format!("many-{n}@example.com"), phone, n).await;
            assert!(tokens["access_token"].is_string(), "{tokens}");
        }
    };
    futures::stream::iter((SIGN_UPS..2 * SIGN_UPS).map(sign_up)).buffer_unordered(16).collect::<Vec<()>>().await;
    store.count_as(Counting::Off);
    let in_burst = store.in_burst.lock().unwrap().clone();
    let (busiest, writes) = in_burst.iter().max_by_key(|(_, writes)| **writes).expect("writes");
    println!("busiest key of {SIGN_UPS} sign-ups at once: {busiest}, {:.3} writes a sign-up", per_sign_up(*writes));
    let hot: Vec<String> = in_burst
        .iter()
        .filter(|(_, writes)| per_sign_up(**writes) > MOST_PER_SIGN_UP)
        .map(|(pk, writes)| format!("{pk}: {writes} writes ({:.3} a sign-up)", per_sign_up(*writes)))
        .collect();
    assert!(hot.is_empty(), "keys over {MOST_PER_SIGN_UP} writes a sign-up in the burst:\n  {}", hot.join("\n  "));
}

/// Shards read as one partition (`paging::query_merged`), page by page on
/// both stores: every item once, in sort key order, an item under the same
/// sort key in two partitions (written before and after sharding) once.
async fn shards_page_as_one_partition(backend: common::Backend) {
    use shared::domain::paging::query_merged;
    use shared::table::shards_of;
    let clock = Arc::new(ManualClock::at_test_start());
    let store: Arc<dyn Store> = match common::store_for(backend, clock.clone()).await {
        Some(store) => store,
        None => Arc::new(MemoryStore::new(clock)),
    };
    let partitions = shards_of(&common::unique("MERGED"));
    let mut expected = BTreeSet::new();
    for n in 0..60u32 {
        // Most in a shard of their own; some in the unsharded partition,
        // every tenth in both.
        let sk = format!("USER#usr_{n:03}");
        let shard = 1 + shared::table::shard_of(&sk) as usize;
        let homes = match n % 10 {
            0 => vec![0, shard],
            3 | 7 => vec![0],
            _ => vec![shard],
        };
        for home in homes {
            let item = Item::new(Key::new(partitions[home].clone(), sk.clone()), serde_json::json!({ "n": n }), None);
            store.put(item, Condition::Always).await.unwrap();
        }
        expected.insert(sk);
    }
    for limit in [1, 7, 25, 100] {
        let (mut listed, mut after) = (Vec::new(), None::<String>);
        loop {
            let page = query_merged(store.as_ref(), &partitions, "USER#", after.as_deref(), limit).await.unwrap();
            assert!(page.items.len() <= limit);
            listed.extend(page.items.into_iter().map(|item| item.key.sk));
            match page.last_evaluated {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        assert_eq!(listed, expected.iter().cloned().collect::<Vec<_>>(), "limit {limit}");
    }
}

mod merged {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_memory() {
        shards_page_as_one_partition(common::Backend::Memory).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_dynamodb() {
        shards_page_as_one_partition(common::Backend::DynamoDb).await;
    }
}

/// A table written before sharding keeps working: a user's index entry in
/// the unsharded partition only, or in both it and its shard, is listed
/// once, in order, page after page; an event of the unsharded outbox is
/// read by the redrive's reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_written_before_sharding_are_still_read() {
    use shared::table::{UserIndex, event_partitions, shard_of, users_by};
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    let api = common::Api::start(common::Backend::Memory, policy).await;
    let started = api.now();
    let mut ids = Vec::new();
    for n in 0..5 {
        let tokens = api.sign_up(&format!("before-{n}@example.com")).await;
        ids.push(tokens["user_id"].as_str().unwrap().to_owned());
    }
    let store = api.app.store.clone();
    let (partitions, _) = users_by(&api.app.tenant.id, UserIndex::Status, "active");
    let entry =
        |pk: &str, id: &str| Item::new(Key::new(pk, format!("USER#{id}")), serde_json::json!({ "user_id": id }), None);
    // The first two as before sharding only; the third in both.
    for id in &ids[..2] {
        let shard = &partitions[1 + shard_of(id) as usize];
        store.delete(&Key::new(shard.as_str(), format!("USER#{id}")), Condition::Always).await.unwrap();
        store.put(entry(&partitions[0], id), Condition::Always).await.unwrap();
    }
    store.put(entry(&partitions[0], &ids[2]), Condition::Always).await.unwrap();
    let admin = format!("Bearer {}", api.app.admin_token);
    let (mut listed, mut after) = (Vec::new(), String::new());
    loop {
        let page = api.get(&format!("/v1/users?status=active&limit=2{after}"), &[("Authorization", &admin)]).await;
        assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
        listed.extend(page.body["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "each user once, in id order");

    // An event of the outbox as it was before sharding.
    let outbox = event_partitions(&api.app.tenant.id);
    let mut stored = Vec::new();
    for pk in &outbox[1..] {
        stored.extend(store.query_all(pk, "").await.unwrap());
    }
    let mut old = stored.pop().expect("the sign-ups' events");
    store.delete(&old.key, Condition::Always).await.unwrap();
    old.key.pk = outbox[0].clone();
    let old_id = old.body["id"].as_str().unwrap().to_owned();
    store.put(old, Condition::Always).await.unwrap();
    let read = shared::domain::events::stored_between(&api.app.app, started, api.now()).await.unwrap();
    assert_eq!(read.len(), stored.len() + 1, "every event once");
    assert!(read.iter().any(|e| e.id == old_id), "the unsharded partition's event");
    assert!(read.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at), "in time order");
}
