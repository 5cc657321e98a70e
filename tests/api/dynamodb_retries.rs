//! What the DynamoDB adapter retries, and what it does not: only what real
//! DynamoDB does to a transaction without deciding it (a conflict with
//! another transaction in flight, throttling), always with the same
//! idempotency token so a retry cannot apply the writes twice. A condition
//! that failed is an answer, never retried.
//!
//! moto cannot be made to answer a conflict or a throttle on demand, so these
//! tests put a scripted endpoint behind the real SDK: it answers each request
//! with the next scripted answer, in DynamoDB's JSON protocol, and records
//! what it was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use serde_json::{Value, json};
use shared::adapters::dynamodb::{DynamoStore, TRANSACTION_RETRIES};
use shared::adapters::system::ManualClock;
use shared::ports::{Condition, Item, Key, Store, StoreError, Write};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One scripted answer: HTTP status and JSON body.
type Answer = (u16, Value);

/// What the endpoint was sent: the operation and the request's JSON.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

fn cancelled(reasons: &[&str]) -> Answer {
    let reasons: Vec<Value> = reasons.iter().map(|code| json!({ "Code": code })).collect();
    (
        400,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
            "CancellationReasons": reasons,
        }),
    )
}

fn error(kind: &str, status: u16) -> Answer {
    (status, json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "Message": kind }))
}

fn ok() -> Answer {
    (200, json!({}))
}

/// Serves `script` in order on a loopback port (answering 500 once it runs
/// out); returns the endpoint URL and what it saw.
async fn scripted_endpoint(script: Vec<Answer>) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let script = Arc::new(Mutex::new(script.into_iter()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (script, record) = (script.clone(), record.clone());
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let (mut target, mut length) = (String::new(), 0usize);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            match name.trim().to_ascii_lowercase().as_str() {
                                "x-amz-target" => target = value.trim().to_owned(),
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0u8; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
                    record.lock().unwrap().push((operation, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                    let (status, answer) = script.lock().unwrap().next().unwrap_or_else(|| error("Unscripted", 500));
                    let text = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

async fn store_on(script: Vec<Answer>) -> (DynamoStore, Seen) {
    let (url, seen) = scripted_endpoint(script).await;
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "test")))
        .endpoint_url(url)
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(5)))
        .build();
    let clock = Arc::new(ManualClock::at_test_start());
    (DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "t".to_owned(), clock), seen)
}

fn two_writes() -> Vec<Write> {
    vec![
        Write::Put { item: Item::new(Key::new("USER#1", "A"), json!({}), None), condition: Condition::NotExists },
        Write::Put { item: Item::new(Key::new("EMAIL#a", "A"), json!({}), None), condition: Condition::NotExists },
    ]
}

/// The transactions sent, with their idempotency tokens.
fn tokens(seen: &Seen) -> Vec<String> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .map(|(operation, body)| {
            assert_eq!(operation, "TransactWriteItems");
            body["ClientRequestToken"].as_str().expect("every transaction carries a token").to_owned()
        })
        .collect()
}

fn assert_one_token(tokens: &[String], sent: usize) {
    assert_eq!(tokens.len(), sent, "requests sent");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "one idempotency token for every try: {tokens:?}");
}

#[tokio::test]
async fn a_conflict_with_another_transaction_is_tried_again_with_the_same_token() {
    let (store, seen) = store_on(vec![cancelled(&["None", "TransactionConflict"]), ok()]).await;
    assert_eq!(store.transact(two_writes()).await, Ok(()));
    assert_one_token(&tokens(&seen), 2);
}

#[tokio::test]
async fn a_transaction_already_in_progress_is_tried_again_with_the_same_token() {
    let (store, seen) = store_on(vec![error("TransactionInProgressException", 400), ok()]).await;
    assert_eq!(store.transact(two_writes()).await, Ok(()));
    assert_one_token(&tokens(&seen), 2);
}

#[tokio::test]
async fn a_throttled_item_in_a_transaction_is_tried_again() {
    let (store, seen) = store_on(vec![cancelled(&["ThrottlingError", "None"]), ok()]).await;
    assert_eq!(store.transact(two_writes()).await, Ok(()));
    assert_one_token(&tokens(&seen), 2);
}

#[tokio::test]
async fn a_throttled_request_is_tried_again() {
    let script = vec![
        error("ProvisionedThroughputExceededException", 400),
        error("ThrottlingException", 400),
        error("RequestLimitExceeded", 400),
        ok(),
    ];
    let (store, seen) = store_on(script).await;
    assert_eq!(store.transact(two_writes()).await, Ok(()));
    assert_one_token(&tokens(&seen), 4);
}

#[tokio::test]
async fn a_failed_condition_is_the_answer_and_is_not_retried() {
    let (store, seen) = store_on(vec![cancelled(&["None", "ConditionalCheckFailed"]), ok()]).await;
    assert_eq!(store.transact(two_writes()).await, Err(StoreError::ConditionFailed { index: 1 }));
    assert_one_token(&tokens(&seen), 1);
}

#[tokio::test]
async fn a_refused_request_is_not_retried() {
    let (store, seen) = store_on(vec![error("ValidationException", 400), ok()]).await;
    assert!(matches!(store.transact(two_writes()).await, Err(StoreError::Unavailable(_))));
    assert_one_token(&tokens(&seen), 1);
}

#[tokio::test]
async fn a_conflict_that_lasts_gives_up_as_unavailable() {
    let script = vec![cancelled(&["TransactionConflict", "None"]); 20];
    let (store, seen) = store_on(script).await;
    assert!(matches!(store.transact(two_writes()).await, Err(StoreError::Unavailable(_))));
    assert_one_token(&tokens(&seen), 1 + TRANSACTION_RETRIES as usize);
}
