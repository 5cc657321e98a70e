//! The events' deployed path on moto (issue 26 item 2): the table's stream
//! holds the event items of a `TransactWriteItems`; publish-events' handler
//! puts them on a bus (whose rule sends them to an SQS queue, where they
//! arrive) and delivers them to the tenant's webhook; a record it could not
//! deliver is answered as a batch item failure and done on the retry; a
//! batch the dead-letter queue names is published again by the redrive.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::EventRecord as StreamRecord;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::eventbridge::EventBus;
use shared::adapters::system::ManualClock;
use shared::app::App;
use shared::domain::events::{EventType, event_write};
use shared::domain::ids::UserId;
use shared::domain::policy::EventWebhook;
use shared::domain::tenant::{Policy, Tenant, save_tenant};
use shared::ports::{Condition, Item, Key, Store, Write};
use shared::testing::{TestOptions, build_app};

use crate::common;
use crate::events_outbox::Receiver;

/// A bus of its own whose rule sends every `registrar` event to a queue.
pub(crate) struct Observed {
    pub(crate) bus: EventBus,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) queue_url: String,
}

pub(crate) async fn bus_to_queue(sdk: &SdkConfig) -> Observed {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let name = common::unique("bus");
    events.create_event_bus().name(&name).send().await.expect("bus");
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue_url = queue(&sqs, "seen").await;
    let queue_arn = queue_arn(&sqs, &queue_url).await;
    let rule = common::unique("rule");
    let pattern = json!({ "source": [shared::adapters::eventbridge::SOURCE] }).to_string();
    events.put_rule().name(&rule).event_bus_name(&name).event_pattern(pattern).send().await.expect("rule");
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(queue_arn).build().expect("target");
    events.put_targets().rule(&rule).event_bus_name(&name).targets(target).send().await.expect("target");
    Observed { bus: EventBus::new(events, name), sqs, queue_url }
}

pub(crate) async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> String {
    let made = sqs.create_queue().queue_name(common::unique(prefix)).send().await.expect("queue");
    made.queue_url().expect("a URL").to_owned()
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    attributes.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).unwrap().clone()
}

/// The bodies of what reached the queue: at least `count`, each read once.
pub(crate) async fn received(observed: &Observed, count: usize) -> Vec<Value> {
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let out = observed
            .sqs
            .receive_message()
            .queue_url(&observed.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        for message in out.messages() {
            bodies.push(serde_json::from_str(message.body().unwrap_or("null")).expect("JSON"));
        }
        if bodies.len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    bodies
}

/// The stream's place of a table's records, as a dead-letter message names it.
pub(crate) struct Shard {
    pub(crate) stream_arn: String,
    pub(crate) shard_id: String,
}

/// Every record of `table`'s stream, read as Lambda's poller reads it
/// (ListStreams, DescribeStream, GetShardIterator, GetRecords) and handed
/// over as Lambda hands them to the function.
pub(crate) async fn stream_records(
    streams: &aws_sdk_dynamodbstreams::Client,
    table: &str,
) -> (Shard, Vec<StreamRecord>) {
    let listed = streams.list_streams().table_name(table).send().await.expect("list streams");
    let stream_arn = listed.streams().first().and_then(|s| s.stream_arn()).expect("the table's stream").to_owned();
    let described = streams.describe_stream().stream_arn(&stream_arn).send().await.expect("describe stream");
    let shards = described.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default();
    let mut records = Vec::new();
    let mut shard_id = String::new();
    for shard in shards {
        shard_id = shard.shard_id().unwrap_or_default().to_owned();
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&stream_arn)
            .shard_id(&shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("shard iterator");
        let mut next = iterator.shard_iterator().map(str::to_owned);
        while let Some(position) = next.take() {
            let page = streams.get_records().shard_iterator(position).send().await.expect("records");
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(|r| registrar::redrive::lambda_record(r, &stream_arn)));
            next = page.next_shard_iterator().map(str::to_owned);
        }
    }
    (Shard { stream_arn, shard_id }, records)
}

fn sequence(record: &StreamRecord) -> String {
    record.change.sequence_number.clone().unwrap_or_default()
}

/// A table with a stream, a tenant whose webhook is `receiver`, and an app
/// on them (without the local dispatcher: the stream is the deliverer).
async fn deployed(receiver: &Receiver) -> (App, String, Tenant) {
    let clock = Arc::new(ManualClock::at_test_start());
    let table = common::unique("registrar");
    let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(&common::moto_sdk()), table.clone(), clock.clone());
    dynamo.create_table().await.expect("a table with its stream");
    let store: Arc<dyn Store> = Arc::new(dynamo);
    let tenant = Tenant {
        id: common::unique("t"),
        name: "Deployed".into(),
        policy: Policy { webhook: Some(EventWebhook { url: receiver.url.clone() }), ..Policy::default() },
    };
    save_tenant(store.as_ref(), &tenant).await.expect("tenant");
    let built = build_app(TestOptions { store: Some(store.clone()), clock: Some(clock), ..Default::default() }).await;
    (App { store, ..(*built.app).clone() }, table, tenant)
}

/// One transaction: a change and its two events; returns the events' ids.
async fn change_with_events(app: &App, tenant: &Tenant) -> Vec<String> {
    let user = UserId::parse(&app.new_id("usr")).expect("a user id");
    let created = event_write(app, &tenant.id, &user, EventType::UserCreated, None, json!({ "source": "import" }));
    let updated = event_write(app, &tenant.id, &user, EventType::UserUpdated, None, json!({ "fields": ["locale"] }));
    let change = Item::new(Key::new(format!("STREAMTEST#{user}"), "A"), json!({ "n": 1 }), None);
    let writes = vec![Write::Put { item: change, condition: Condition::Always }, created.unwrap(), updated.unwrap()];
    let ids = writes.iter().filter_map(|w| match w {
        Write::Put { item, .. } => item.body["id"].as_str().map(str::to_owned),
        _ => None,
    });
    let ids = ids.collect();
    app.store.transact(writes).await.expect("the transaction");
    ids
}

#[tokio::test]
async fn a_transactions_events_reach_the_bus_and_the_webhook_and_a_failed_one_is_retried() {
    let sdk = common::moto_sdk();
    let receiver = Receiver::start(1).await;
    let (app, table, tenant) = deployed(&receiver).await;
    let ids = change_with_events(&app, &tenant).await;
    assert_eq!(ids.len(), 2);

    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let (_, records) = stream_records(&streams, &table).await;
    let events: Vec<_> = records.iter().filter_map(|r| shared::stream::event_of(r).unwrap()).collect();
    assert_eq!(events.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids, "the stream holds both event items");
    assert!(records.len() > events.len(), "and the change, which is no event");

    let observed = bus_to_queue(&sdk).await;
    // The receiver fails its first delivery: that record is answered failed.
    let first = shared::stream::handle(&app, Some(&observed.bus), &records).await;
    assert_eq!((first.published, first.failed.len()), (1, 1), "{first:?}");
    let response = serde_json::to_value(first.response()).unwrap();
    assert_eq!(response, json!({ "batchItemFailures": [{ "itemIdentifier": first.failed[0] }] }));
    // Lambda hands the batch again from the first failed record on.
    let again: Vec<StreamRecord> = records.iter().skip_while(|r| sequence(r) != first.failed[0]).cloned().collect();
    let retried = shared::stream::handle(&app, Some(&observed.bus), &again).await;
    assert!(retried.failed.is_empty(), "{retried:?}");

    let accepted = receiver.wait_for("both events", |events| events.len() == 2).await;
    let delivered: BTreeSet<&str> = accepted.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(delivered, ids.iter().map(String::as_str).collect());
    for delivery in receiver.deliveries() {
        assert_eq!(delivery.header("webhook-id"), delivery.json()["id"].as_str().unwrap(), "the event id, every time");
    }

    // The bus had every event (one of them twice: at least once), as
    // EventBridge events: source, detail-type the type, detail the payload.
    let on_bus = received(&observed, 2).await;
    let seen: BTreeSet<String> = on_bus.iter().map(|e| e["detail"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, ids.iter().cloned().collect(), "{on_bus:#?}");
    for event in &on_bus {
        assert_eq!(event["source"], "registrar");
        assert_eq!(event["detail-type"], event["detail"]["type"]);
        assert_eq!(event["detail"]["tenant"], tenant.id.as_str());
    }
}

#[tokio::test]
async fn the_redrive_publishes_a_dead_lettered_batch_and_keeps_what_it_cannot() {
    let sdk = common::moto_sdk();
    let receiver = Receiver::start(0).await;
    let (app, table, tenant) = deployed(&receiver).await;
    let ids = change_with_events(&app, &tenant).await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let (shard, records) = stream_records(&streams, &table).await;
    let observed = bus_to_queue(&sdk).await;

    // What the event source mapping sends its OnFailure destination once a
    // batch has used its retries: the batch's place, not its records.
    let dlq = queue(&observed.sqs, "dlq").await;
    let failure = json!({
        "requestContext": { "requestId": "r", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11,
                            "functionArn": "arn:aws:lambda:eu-central-1:123456789012:function:x-publish-events" },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": null },
        "version": "1.0", "timestamp": "2026-12-07T10:00:00.000Z",
        "DDBStreamBatchInfo": {
            "shardId": shard.shard_id, "streamArn": shard.stream_arn, "batchSize": records.len(),
            "startSequenceNumber": sequence(&records[0]), "endSequenceNumber": sequence(records.last().unwrap()),
            "approximateArrivalOfFirstRecord": "2026-12-07T09:00:00Z",
            "approximateArrivalOfLastRecord": "2026-12-07T09:00:00Z",
        },
    });
    for body in [failure.to_string(), "not a failure record".to_owned()] {
        observed.sqs.send_message().queue_url(&dlq).message_body(body).send().await.expect("dead letter");
    }

    let summary = registrar::redrive::redrive(&app, &observed.bus, &streams, &observed.sqs, &dlq).await.unwrap();
    assert_eq!((summary.batches, summary.published, summary.redriven), (2, 2, 1), "{summary:?}");
    assert_eq!(summary.kept.len(), 1, "the message that names no batch stays: {summary:?}");
    let accepted = receiver.wait_for("both events", |events| events.len() == 2).await;
    assert_eq!(accepted.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), ids);
    assert_eq!(received(&observed, 2).await.len(), 2, "and the bus had them");
}

/// A dead-lettered batch the stream no longer holds (after its 24 hours):
/// the redrive publishes the table's events of when the batch arrived, and
/// keeps a message that does not say when, or whose time holds no event.
#[tokio::test]
async fn the_redrive_reads_the_table_when_the_stream_no_longer_holds_a_batch() {
    let sdk = common::moto_sdk();
    let receiver = Receiver::start(0).await;
    let (app, table, tenant) = deployed(&receiver).await;
    let ids = change_with_events(&app, &tenant).await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let (shard, _) = stream_records(&streams, &table).await;
    let observed = bus_to_queue(&sdk).await;
    let dlq = queue(&observed.sqs, "dlq").await;
    let now = app.clock.now();
    let at = |seconds: i64| (now + chrono::Duration::seconds(seconds)).to_rfc3339();
    let failure = |first: Option<String>, last: Option<String>| {
        json!({
            "version": "1.0", "timestamp": at(0),
            "DDBStreamBatchInfo": {
                // A shard the stream no longer has, as after its 24 hours.
                "shardId": "shardId-00000000000000000000-gone", "streamArn": shard.stream_arn, "batchSize": 2,
                "startSequenceNumber": "100", "endSequenceNumber": "200",
                "approximateArrivalOfFirstRecord": first, "approximateArrivalOfLastRecord": last,
            },
        })
        .to_string()
    };
    let bodies = [failure(Some(at(0)), Some(at(1))), failure(None, None), failure(Some(at(-7200)), Some(at(-7199)))];
    for body in bodies {
        observed.sqs.send_message().queue_url(&dlq).message_body(body).send().await.expect("dead letter");
    }

    let summary = registrar::redrive::redrive(&app, &observed.bus, &streams, &observed.sqs, &dlq).await.unwrap();
    assert_eq!((summary.batches, summary.redriven, summary.from_table), (3, 1, 1), "{summary:?}");
    assert_eq!(summary.published, 2, "{summary:?}");
    assert_eq!(summary.kept.len(), 2, "no arrival, and an arrival without events: {summary:?}");
    assert!(summary.kept.iter().any(|k| k.contains("does not say when")), "{summary:?}");
    assert!(summary.kept.iter().any(|k| k.contains("holds no event")), "{summary:?}");
    // Both events, in the table's order (events of one instant by id).
    let accepted = receiver.wait_for("both events", |events| events.len() == 2).await;
    let delivered: BTreeSet<String> = accepted.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(delivered, ids.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(received(&observed, 2).await.len(), 2, "and the bus had them");
}

/// `events/streams/publish-events.json`, a batch as Lambda hands it to
/// publish-events (its event source mapping's filter passes only INSERTs
/// of event items), reads as the event it carries.
#[test]
fn the_sample_stream_event_holds_one_event() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/events/streams/publish-events.json");
    let batch: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the sample")).expect("a DynamoDB Streams event");
    assert_eq!(batch.records.len(), 1);
    let event = shared::stream::event_of(&batch.records[0]).expect("decodes").expect("an event");
    assert_eq!((event.event_type.as_str(), event.tenant.as_str()), ("user.created", "sandbox"));
    assert_eq!(event.data["source"], "sign_up");
    // Its key is the one the table gives it (its shard of the outbox).
    let keys = serde_json::to_value(&batch.records[0].change.keys).unwrap();
    let stored = shared::table::Record::key(&event);
    assert_eq!((&keys["pk"]["S"], &keys["sk"]["S"]), (&json!(stored.pk), &json!(stored.sk)));
    // Any other change of the table is no event: a MODIFY, or another item.
    let mut modified = batch.records[0].clone();
    modified.event_name = "MODIFY".into();
    assert_eq!(shared::stream::event_of(&modified), Ok(None));
}

/// A deployed function reads the stack's webhook secret at cold start, in
/// one batch with its code key, and signs with it (the generated text, 64
/// letters and digits, is the secret's base64); the secret itself in the
/// environment is refused.
#[tokio::test]
async fn a_deployed_function_signs_with_the_stacks_webhook_secret() {
    let sdk = common::moto_sdk();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let prefix = common::unique("stack");
    let webhook_text = "Zq9".repeat(21) + "w";
    let mut ids = Vec::new();
    for (name, text) in
        [("code-key", "a code key of at least thirty-two characters"), ("webhook-secret", &webhook_text)]
    {
        let made = client.create_secret().name(format!("{prefix}/{name}")).secret_string(text).send().await;
        ids.push(made.expect("secret").arn().expect("an ARN").to_owned());
    }
    let env = std::collections::HashMap::from([
        ("REGISTRAR_ISSUER", "https://id.example".to_owned()),
        ("REGISTRAR_STORE", "memory".to_owned()),
        ("REGISTRAR_SENDER", "outbox".to_owned()),
        ("REGISTRAR_CODE_KEY_SECRET", ids[0].clone()),
        ("REGISTRAR_WEBHOOK_KEY_SECRET", ids[1].clone()),
    ]);
    let config = shared::config::Config::from_lookup(true, |name| env.get(name).cloned()).expect("a deployed config");
    let clock = Arc::new(ManualClock::at_test_start());
    let app = config.build_app_on(Some(&sdk), clock).await.expect("started with its secrets");

    let receiver = Receiver::start(0).await;
    let payload = json!({ "id": "evt_signed", "type": "user.created" });
    app.hooks.deliver(&receiver.url, "evt_signed", &payload, std::time::Duration::from_secs(5)).await.expect("sent");
    let delivery = receiver.deliveries().pop().expect("a delivery");
    let timestamp: i64 = delivery.header("webhook-timestamp").parse().expect("a timestamp");
    let secret = shared::adapters::webhook::WebhookSecret::parse(&format!("whsec_{webhook_text}")).unwrap();
    assert_eq!(delivery.header("webhook-signature"), secret.sign("evt_signed", timestamp, &delivery.body));

    let mut leaked = env.clone();
    leaked.insert("REGISTRAR_WEBHOOK_SECRET", format!("whsec_{webhook_text}"));
    let Err(refused) = shared::config::Config::from_lookup(true, |name| leaked.get(name).cloned()) else {
        panic!("REGISTRAR_WEBHOOK_SECRET accepted in Lambda");
    };
    assert!(refused.0.contains("REGISTRAR_WEBHOOK_SECRET"), "{refused}");
}
