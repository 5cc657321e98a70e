//! The store contract: one generic suite that every [`Store`] adapter must
//! pass unchanged (the in-memory store and DynamoDB on moto). Each case takes
//! a fresh, empty store and the manual clock that store reads.
//!
//! [`store_contract_tests!`](crate::store_contract_tests) expands to one
//! `#[tokio::test]` per case for a given store factory.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::system::ManualClock;
use crate::ports::{Condition, Item, Key, Page, Store, StoreError, Tally, Write};

fn item(pk: &str, sk: &str, n: i64, expires_at: Option<i64>) -> Item {
    Item::new(Key::new(pk, sk), json!({ "n": n }), expires_at)
}

/// Puts and gets round-trip; a create starts at version 1.
pub async fn put_then_get(store: Arc<dyn Store>, _clock: Arc<ManualClock>) {
    let key = Key::new("A#1", "X");
    assert_eq!(store.get(&key).await.unwrap(), None);
    store.put(item("A#1", "X", 7, None), Condition::NotExists).await.unwrap();
    let got = store.get(&key).await.unwrap().expect("item stored");
    assert_eq!(got.body, json!({ "n": 7 }));
    assert_eq!(got.version, 1);
    assert_eq!(got.expires_at, None);
}

/// `get_many` answers every key in order: items, `None` for missing and
/// expired ones.
pub async fn get_many_reads_together_in_order(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    store.put(item("M#1", "X", 1, None), Condition::NotExists).await.unwrap();
    store.put(item("M#2", "Y", 2, Some(now + 30)), Condition::NotExists).await.unwrap();
    store.put(item("M#3", "Z", 3, Some(now + 90)), Condition::NotExists).await.unwrap();
    let keys = [Key::new("M#3", "Z"), Key::new("M#0", "X"), Key::new("M#1", "X"), Key::new("M#2", "Y")];
    let bodies = |got: Vec<Option<Item>>| got.into_iter().map(|i| i.map(|i| i.body["n"].clone())).collect::<Vec<_>>();
    assert_eq!(bodies(store.get_many(&keys).await.unwrap()), [Some(json!(3)), None, Some(json!(1)), Some(json!(2))]);
    clock.advance(Duration::seconds(31));
    assert_eq!(bodies(store.get_many(&keys).await.unwrap()), [Some(json!(3)), None, Some(json!(1)), None]);
    let versions: Vec<u64> =
        store.get_many(&keys[2..3]).await.unwrap().into_iter().flatten().map(|i| i.version).collect();
    assert_eq!(versions, [1], "versions come back as with get");
    assert_eq!(store.get_many(&[]).await.unwrap(), Vec::<Option<Item>>::new());
}

/// `NotExists` refuses a live item and accepts an expired one.
pub async fn create_is_conditional_and_expiry_frees_the_key(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    store.put(item("B#1", "X", 1, Some(now + 60)), Condition::NotExists).await.unwrap();
    let again = store.put(item("B#1", "X", 2, None), Condition::NotExists).await;
    assert_eq!(again, Err(StoreError::ConditionFailed { index: 0 }));
    assert_eq!(store.get(&Key::new("B#1", "X")).await.unwrap().unwrap().body, json!({ "n": 1 }));
    clock.advance(Duration::seconds(61));
    assert_eq!(store.get(&Key::new("B#1", "X")).await.unwrap(), None, "expired items are absent");
    store.put(item("B#1", "X", 3, None), Condition::NotExists).await.unwrap();
    assert_eq!(store.get(&Key::new("B#1", "X")).await.unwrap().unwrap().body, json!({ "n": 3 }));
}

/// `Version` is optimistic locking: the holder of the current version wins
/// once, a stale holder fails.
pub async fn versioned_writes_detect_concurrent_changes(store: Arc<dyn Store>, _clock: Arc<ManualClock>) {
    store.put(item("C#1", "X", 1, None), Condition::NotExists).await.unwrap();
    let read = store.get(&Key::new("C#1", "X")).await.unwrap().unwrap();
    store.put(item("C#1", "X", 2, None), Condition::Version(read.version)).await.unwrap();
    let stale = store.put(item("C#1", "X", 3, None), Condition::Version(read.version)).await;
    assert_eq!(stale, Err(StoreError::ConditionFailed { index: 0 }));
    let now = store.get(&Key::new("C#1", "X")).await.unwrap().unwrap();
    assert_eq!(now.body, json!({ "n": 2 }));
    assert_eq!(now.version, read.version + 1);
    let missing = store.put(item("C#2", "X", 1, None), Condition::Version(1)).await;
    assert_eq!(missing, Err(StoreError::ConditionFailed { index: 0 }));
    let exists = store.put(item("C#3", "X", 1, None), Condition::Exists).await;
    assert_eq!(exists, Err(StoreError::ConditionFailed { index: 0 }));
}

/// An expired item fails `Exists` and `Version` like a missing one.
pub async fn expired_items_fail_exists_conditions(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    store.put(item("D#1", "X", 1, Some(now + 10)), Condition::NotExists).await.unwrap();
    let version = store.get(&Key::new("D#1", "X")).await.unwrap().unwrap().version;
    clock.advance(Duration::seconds(10));
    let stale = store.put(item("D#1", "X", 2, None), Condition::Version(version)).await;
    assert_eq!(stale, Err(StoreError::ConditionFailed { index: 0 }));
    let gone = store.delete(&Key::new("D#1", "X"), Condition::Exists).await;
    assert_eq!(gone, Err(StoreError::ConditionFailed { index: 0 }));
}

/// Deletes honour their condition.
pub async fn deletes_are_conditional(store: Arc<dyn Store>, _clock: Arc<ManualClock>) {
    store.put(item("E#1", "X", 1, None), Condition::NotExists).await.unwrap();
    let wrong = store.delete(&Key::new("E#1", "X"), Condition::Version(99)).await;
    assert_eq!(wrong, Err(StoreError::ConditionFailed { index: 0 }));
    assert!(store.get(&Key::new("E#1", "X")).await.unwrap().is_some());
    store.delete(&Key::new("E#1", "X"), Condition::Exists).await.unwrap();
    assert_eq!(store.get(&Key::new("E#1", "X")).await.unwrap(), None);
    store.delete(&Key::new("E#1", "X"), Condition::Always).await.unwrap();
}

/// A transaction with one failing condition writes nothing and names the
/// failing write.
pub async fn transactions_are_all_or_nothing(store: Arc<dyn Store>, _clock: Arc<ManualClock>) {
    store.put(item("F#lock", "L", 0, None), Condition::NotExists).await.unwrap();
    store.put(item("F#old", "X", 0, None), Condition::NotExists).await.unwrap();
    let failed = store
        .transact(vec![
            Write::Put { item: item("F#user", "P", 1, None), condition: Condition::NotExists },
            Write::Delete { key: Key::new("F#old", "X"), condition: Condition::Exists },
            Write::Put { item: item("F#lock", "L", 1, None), condition: Condition::NotExists },
        ])
        .await;
    assert_eq!(failed, Err(StoreError::ConditionFailed { index: 2 }));
    assert_eq!(store.get(&Key::new("F#user", "P")).await.unwrap(), None);
    assert!(store.get(&Key::new("F#old", "X")).await.unwrap().is_some());
    assert_eq!(store.get(&Key::new("F#lock", "L")).await.unwrap().unwrap().body, json!({ "n": 0 }));

    store
        .transact(vec![
            Write::Put { item: item("F#user", "P", 1, None), condition: Condition::NotExists },
            Write::Delete { key: Key::new("F#old", "X"), condition: Condition::Exists },
            Write::Check { key: Key::new("F#lock", "L"), condition: Condition::Exists },
        ])
        .await
        .unwrap();
    assert_eq!(store.get(&Key::new("F#user", "P")).await.unwrap().unwrap().version, 1);
    assert_eq!(store.get(&Key::new("F#old", "X")).await.unwrap(), None);
}

/// Queries stay in their partition, match the prefix, skip expired items, and
/// honour order and limit.
pub async fn queries_by_prefix_in_order(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    for (sk, n) in [("EVT#2", 2), ("EVT#1", 1), ("EVT#3", 3), ("OTHER#1", 9)] {
        store.put(item("G#1", sk, n, None), Condition::NotExists).await.unwrap();
    }
    store.put(item("G#1", "EVT#4", 4, Some(now + 5)), Condition::NotExists).await.unwrap();
    store.put(item("G#2", "EVT#1", 99, None), Condition::NotExists).await.unwrap();
    let numbers = |page: Page| page.items.into_iter().map(|i| i.body["n"].as_i64().unwrap()).collect::<Vec<_>>();
    let all = store.query("G#1", "EVT#", false, None, 10).await.unwrap();
    assert_eq!(all.last_evaluated, None, "the whole prefix in one page");
    assert_eq!(numbers(all), [1, 2, 3, 4]);
    clock.advance(Duration::seconds(5));
    assert_eq!(numbers(store.query("G#1", "EVT#", false, None, 10).await.unwrap()), [1, 2, 3]);
    let newest = store.query("G#1", "EVT#", true, None, 2).await.unwrap();
    assert_eq!(newest.last_evaluated.as_deref(), Some("EVT#2"), "more follow: the page says where it stopped");
    assert_eq!(numbers(newest), [3, 2]);
    assert_eq!(numbers(store.query("G#1", "", false, None, 10).await.unwrap()), [1, 2, 3, 9]);
    assert_eq!(store.query("G#3", "", false, None, 10).await.unwrap(), Page::default());
}

/// Every page of `pk`/`prefix`, `limit` at a time from `start_after`: the
/// numbers of the items in the order read, and how many pages it took.
async fn walk(
    store: &dyn Store,
    (pk, prefix): (&str, &str),
    descending: bool,
    start_after: Option<&str>,
    limit: usize,
) -> (Vec<i64>, usize) {
    let mut numbers = Vec::new();
    let mut start = start_after.map(str::to_owned);
    for pages in 1..=1000 {
        let page = store.query(pk, prefix, descending, start.as_deref(), limit).await.unwrap();
        assert!(page.items.len() <= limit.max(1), "a page holds at most its limit");
        numbers.extend(page.items.iter().map(|i| i.body["n"].as_i64().unwrap()));
        match page.last_evaluated {
            Some(last) => start = Some(last),
            None => return (numbers, pages),
        }
    }
    panic!("the pages never end");
}

/// A query pages with a start key: through a partition bigger than a page,
/// both ways, it reaches every item under the prefix exactly once and in
/// order, and the page that ends it says so; it starts after any key, in the
/// middle, between two items, or outside the prefix.
pub async fn queries_page_through_a_partition_with_a_start_key(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    // Items under the prefix (`P#000` … `P#024`, n = 0 … 24), others around
    // it in the same partition, and the same keys in the next partition.
    let mut writes = Vec::new();
    for n in 0..25 {
        writes.push(Write::Put { item: item("J#1", &format!("P#{n:03}"), n, None), condition: Condition::NotExists });
    }
    for (sk, n) in [("O#9", 100), ("P", 101), ("Q#0", 102)] {
        writes.push(Write::Put { item: item("J#1", sk, n, None), condition: Condition::NotExists });
    }
    writes.push(Write::Put { item: item("J#2", "P#005", 200, None), condition: Condition::NotExists });
    store.transact(writes).await.unwrap();
    let ascending: Vec<i64> = (0..25).collect();
    let descending: Vec<i64> = (0..25).rev().collect();
    let prefix = ("J#1", "P#");
    for limit in [1, 7, 25, 100] {
        let pages = 25usize.div_ceil(limit);
        assert_eq!(walk(store.as_ref(), prefix, false, None, limit).await, (ascending.clone(), pages), "up by {limit}");
        assert_eq!(
            walk(store.as_ref(), prefix, true, None, limit).await,
            (descending.clone(), pages),
            "down by {limit}"
        );
    }
    // In the middle: after the start key, in the query's order.
    let page = store.query("J#1", "P#", false, Some("P#010"), 5).await.unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(),
        ["P#011", "P#012", "P#013", "P#014", "P#015"]
    );
    assert_eq!(page.last_evaluated.as_deref(), Some("P#015"));
    let page = store.query("J#1", "P#", true, Some("P#010"), 3).await.unwrap();
    assert_eq!(page.items.iter().map(|i| i.body["n"].as_i64().unwrap()).collect::<Vec<_>>(), [9, 8, 7]);
    assert_eq!(page.last_evaluated.as_deref(), Some("P#007"));
    // A start key no item has.
    assert_eq!(walk(store.as_ref(), prefix, false, Some("P#0105"), 4).await.0, (11..25).collect::<Vec<_>>());
    assert_eq!(walk(store.as_ref(), prefix, true, Some("P#0105"), 4).await.0, (0..=10).rev().collect::<Vec<_>>());
    // Start keys outside the prefix: before it, after it, empty.
    for (start, up, down) in [("O#9", &ascending[..], &[][..]), ("Q", &[], &descending), ("", &ascending, &[])] {
        assert_eq!(walk(store.as_ref(), prefix, false, Some(start), 10).await.0, up, "up after {start:?}");
        assert_eq!(walk(store.as_ref(), prefix, true, Some(start), 10).await.0, down, "down before {start:?}");
    }
    // The whole partition, with the empty prefix, from a start key.
    let (all, _) = walk(store.as_ref(), ("J#1", ""), false, Some("P#023"), 2).await;
    assert_eq!(all, [24, 102]);
    // An expired item is skipped, the pages go on past it.
    store.put(item("J#1", "P#0125", 999, Some(now + 5)), Condition::NotExists).await.unwrap();
    clock.advance(Duration::seconds(5));
    for limit in [1, 3] {
        assert_eq!(walk(store.as_ref(), prefix, false, Some("P#011"), limit).await.0, (12..25).collect::<Vec<_>>());
        assert_eq!(walk(store.as_ref(), prefix, true, Some("P#014"), limit).await.0, (0..14).rev().collect::<Vec<_>>());
    }
    // `query_all` reads every page.
    let all = store.query_all("J#1", "P#").await.unwrap();
    assert_eq!(all.iter().map(|i| i.body["n"].as_i64().unwrap()).collect::<Vec<_>>(), ascending);
}

/// Concurrent creates of one key: exactly one wins.
pub async fn racing_creates_leave_one_winner(store: Arc<dyn Store>, _clock: Arc<ManualClock>) {
    let attempts = (0..20).map(|n| {
        let store = store.clone();
        async move {
            store
                .transact(vec![
                    Write::Put { item: item(&format!("H#user{n}"), "P", n, None), condition: Condition::NotExists },
                    Write::Put { item: item("H#lock", "L", n, None), condition: Condition::NotExists },
                ])
                .await
        }
    });
    let results = futures_join_all(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    let lock = store.get(&Key::new("H#lock", "L")).await.unwrap().unwrap();
    let winner = lock.body["n"].as_i64().unwrap();
    for n in 0..20 {
        let user = store.get(&Key::new(format!("H#user{n}"), "P")).await.unwrap();
        assert_eq!(user.is_some(), n == winner, "user {n}");
    }
}

/// Counters add atomically, per key, and start from zero again under a new
/// key.
pub async fn counters_add_atomically(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let expires = clock.now_secs() + 60;
    let key = Key::new("I#ip#1", "W#1");
    assert_eq!(store.increment(&key, expires).await.unwrap(), 1);
    assert_eq!(store.increment(&key, expires).await.unwrap(), 2);
    assert_eq!(store.increment(&Key::new("I#ip#2", "W#1"), expires).await.unwrap(), 1);
    let counted = (0..10).map(|_| {
        let store = store.clone();
        let key = key.clone();
        async move { store.increment(&key, expires).await.unwrap() }
    });
    let mut seen = futures_join_all(counted).await;
    seen.sort();
    assert_eq!(seen, (3..=12).collect::<Vec<u64>>(), "every increment counted once");
    let stored = store.get(&key).await.unwrap().expect("counter readable");
    assert_eq!(stored.version, 12);
    assert_eq!(stored.expires_at, Some(expires));
}

/// `ExpiresAt` holds only for the live item with exactly that expiry.
pub async fn expiry_conditions_name_one_item(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    store.put(item("E#1", "X", 1, Some(now + 60)), Condition::NotExists).await.unwrap();
    let wrong = store.delete(&Key::new("E#1", "X"), Condition::ExpiresAt(now + 61)).await;
    assert_eq!(wrong, Err(StoreError::ConditionFailed { index: 0 }));
    store.delete(&Key::new("E#1", "X"), Condition::ExpiresAt(now + 60)).await.unwrap();
    assert_eq!(store.get(&Key::new("E#1", "X")).await.unwrap(), None);
    store.put(item("E#2", "X", 1, Some(now + 30)), Condition::NotExists).await.unwrap();
    clock.advance(Duration::seconds(31));
    let expired = store.delete(&Key::new("E#2", "X"), Condition::ExpiresAt(now + 30)).await;
    assert_eq!(expired, Err(StoreError::ConditionFailed { index: 0 }), "an expired item is absent");
}

/// A capped counter lets exactly `max` of many parallel callers through,
/// stays at the cap, and starts afresh once it has expired.
pub async fn capped_counters_stop_at_the_cap(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let expires = clock.now_secs() + 60;
    let key = Key::new("T#code#1", "TRIES");
    let tries = (0..50).map(|_| {
        let store = store.clone();
        let key = key.clone();
        async move { store.increment_below(&key, 5, expires).await.unwrap() }
    });
    let mut counted: Vec<u64> = futures_join_all(tries).await.into_iter().flatten().collect();
    counted.sort();
    assert_eq!(counted, [1, 2, 3, 4, 5], "exactly five of fifty parallel tries get through, one by one");
    assert_eq!(store.increment_below(&key, 5, expires).await.unwrap(), None, "the cap holds afterwards");
    assert_eq!(store.increment_below(&Key::new("T#code#2", "TRIES"), 5, expires).await.unwrap(), Some(1));
    clock.advance(Duration::seconds(61));
    assert_eq!(store.increment_below(&key, 5, expires + 120).await.unwrap(), Some(1), "an expired counter is absent");
    assert_eq!(store.get(&key).await.unwrap().and_then(|i| i.expires_at), Some(expires + 120));
}

/// A tally counts every parallel event once, moves the expiry, reports the
/// expiry it had before, and starts afresh after expiring.
pub async fn tallies_count_every_event_and_report_the_previous_expiry(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let now = clock.now_secs();
    let key = Key::new("F#user#1", "FAILS");
    let first = store.tally(&key, now + 100).await.unwrap();
    assert_eq!(first, Tally { count: 1, previous_expiry: None });
    let burst = (0..50).map(|_| {
        let store = store.clone();
        let key = key.clone();
        async move { store.tally(&key, now + 200).await.unwrap() }
    });
    let mut counts: Vec<u64> = futures_join_all(burst).await.into_iter().map(|t| t.count).collect();
    counts.sort();
    assert_eq!(counts, (2..=51).collect::<Vec<u64>>(), "every parallel event counted once");
    let next = store.tally(&key, now + 300).await.unwrap();
    assert_eq!(next, Tally { count: 52, previous_expiry: Some(now + 200) });
    clock.advance(Duration::seconds(301));
    let fresh = store.tally(&key, now + 900).await.unwrap();
    assert_eq!(fresh, Tally { count: 1, previous_expiry: None }, "an expired tally starts afresh");
}

/// A count folded into a transaction: fifty parallel transactions each
/// counting once with a write of their own get through one by one up to
/// the cap; past it the whole transaction fails at the count and writes
/// nothing; a count alone is a transaction too.
pub async fn counts_in_transactions_stop_at_the_cap(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let expires = clock.now_secs() + 60;
    let key = Key::new("C#code#1", "TRIES");
    let count = |key: &Key| Write::Count { key: key.clone(), below: 5, expires_at: expires };
    let burst = (0..50).map(|n| {
        let (store, write) = (store.clone(), count(&key));
        async move {
            let put =
                Write::Put { item: item("C#doc", &format!("D#{n:02}"), n, None), condition: Condition::NotExists };
            store.transact(vec![put, write]).await
        }
    });
    let outcomes = futures_join_all(burst).await;
    let passed = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(passed, 5, "five of fifty parallel counts get through: {outcomes:?}");
    assert!(outcomes.iter().all(|o| o.is_ok() || *o == Err(StoreError::ConditionFailed { index: 1 })));
    let page = store.query("C#doc", "D#", false, None, 100).await.unwrap();
    assert_eq!(page.items.len(), 5, "a refused count wrote nothing else");
    let counter = store.get(&key).await.unwrap().expect("the counter");
    assert_eq!((counter.version, counter.expires_at), (5, Some(expires)));
    assert_eq!(store.transact(vec![count(&key)]).await, Err(StoreError::ConditionFailed { index: 0 }));
    let other = Key::new("C#code#2", "TRIES");
    store.transact(vec![count(&other)]).await.unwrap();
    store.transact(vec![count(&other)]).await.unwrap();
    assert_eq!(store.get(&other).await.unwrap().map(|i| i.version), Some(2), "a count alone counts");
    // A cap of 0 refuses even a counter that does not exist yet.
    let closed = Key::new("C#code#3", "TRIES");
    let zero = Write::Count { key: closed.clone(), below: 0, expires_at: expires };
    assert_eq!(store.transact(vec![zero.clone()]).await, Err(StoreError::ConditionFailed { index: 0 }));
    let put = Write::Put { item: item("C#doc", "E#00", 0, None), condition: Condition::NotExists };
    assert_eq!(store.transact(vec![put, zero]).await, Err(StoreError::ConditionFailed { index: 1 }));
    assert_eq!(store.get(&closed).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("C#doc", "E#00")).await.unwrap(), None, "nothing else written");
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("task panicked"));
    }
    out
}

/// Expands to one test per contract case for `$factory`, an async fn
/// returning `(Arc<dyn Store>, Arc<ManualClock>)` for a fresh, empty store.
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:path) => {
        $crate::store_contract_tests!(@cases $factory;
            put_then_get,
            get_many_reads_together_in_order,
            create_is_conditional_and_expiry_frees_the_key,
            versioned_writes_detect_concurrent_changes,
            expired_items_fail_exists_conditions,
            deletes_are_conditional,
            transactions_are_all_or_nothing,
            queries_by_prefix_in_order,
            queries_page_through_a_partition_with_a_start_key,
            racing_creates_leave_one_winner,
            counters_add_atomically,
            expiry_conditions_name_one_item,
            capped_counters_stop_at_the_cap,
            tallies_count_every_event_and_report_the_previous_expiry,
            counts_in_transactions_stop_at_the_cap
        );
    };
    (@cases $factory:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, clock) = $factory().await;
                $crate::adapters::contract::$case(store, clock).await;
            }
        )*
    };
}
