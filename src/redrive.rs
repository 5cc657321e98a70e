//! `registrar-admin events redrive`: events the deployed path gave up on.
//!
//! When publish-events keeps failing a record (every retry of the stream's
//! event source mapping), Lambda sends the batch's *place* in the stream to
//! the dead-letter queue, not its records: the message's
//! `DDBStreamBatchInfo` names the stream, the shard, and the first and last
//! sequence numbers. The redrive reads those records from the stream again
//! (the stream keeps them 24 hours), hands them to the function's own
//! handler (`shared::stream::handle`: the bus and the webhooks), and
//! deletes each message whose records were all published; the others stay
//! for a later run.
//!
//! Once the stream no longer holds a batch (after 24 hours, or when the
//! stream was replaced), its events are still in the table for a week:
//! the redrive publishes again every event that occurred while the batch
//! arrived (the message's `approximateArrivalOf…Record`, widened by a
//! minute each side). That may repeat events that were delivered; each
//! keeps its id, as at-least-once promises.

use aws_sdk_dynamodbstreams::Client as Streams;
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_sqs::Client as Sqs;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::adapters::eventbridge::EventBus;
use shared::app::App;

/// A failed batch's place in the table's stream, as an OnFailure
/// destination message holds it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchInfo {
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub stream_arn: String,
    #[serde(default)]
    pub batch_size: u64,
    /// When the batch's first and last records reached the stream.
    #[serde(default)]
    pub approximate_arrival_of_first_record: Option<DateTime<Utc>>,
    #[serde(default)]
    pub approximate_arrival_of_last_record: Option<DateTime<Utc>>,
}

/// How far around a batch's arrival the table's events are published again.
const ARRIVAL_SLACK_SECS: i64 = 60;

impl BatchInfo {
    /// The instants whose events the table is read for, when the message
    /// says when its batch arrived.
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let first = self.approximate_arrival_of_first_record?;
        let last = self.approximate_arrival_of_last_record.unwrap_or(first).max(first);
        let slack = chrono::Duration::seconds(ARRIVAL_SLACK_SECS);
        Some((first - slack, last + slack))
    }
}

#[derive(Deserialize)]
struct FailureMessage {
    #[serde(rename = "DDBStreamBatchInfo")]
    batch: BatchInfo,
}

/// The batch a dead-letter message names.
pub fn batch_of(message: &str) -> Result<BatchInfo, String> {
    serde_json::from_str::<FailureMessage>(message)
        .map(|m| m.batch)
        .map_err(|e| format!("not a DynamoDB stream failure record: {e}"))
}

/// Sequence numbers are decimal strings of any length.
fn sequence_after(sequence: &str, end: &str) -> bool {
    (sequence.len(), sequence) > (end.len(), end)
}

fn attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(text) => json!({ "S": text }),
        AttributeValue::N(number) => json!({ "N": number }),
        AttributeValue::Bool(flag) => json!({ "BOOL": flag }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(texts) => json!({ "SS": texts }),
        AttributeValue::Ns(numbers) => json!({ "NS": numbers }),
        AttributeValue::L(values) => json!({ "L": values.iter().map(attribute).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": image(Some(map)) }),
        // The table stores no binary attribute.
        _ => Value::Null,
    }
}

fn image(map: Option<&std::collections::HashMap<String, AttributeValue>>) -> Value {
    Value::Object(map.into_iter().flatten().map(|(name, value)| (name.clone(), attribute(value))).collect())
}

/// A record read from the stream as Lambda hands it to publish-events.
pub fn lambda_record(record: &Record, stream_arn: &str) -> aws_lambda_events::event::dynamodb::EventRecord {
    let change = record.dynamodb();
    let value = json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "eventSourceARN": stream_arn,
        "awsRegion": record.aws_region(),
        "dynamodb": {
            "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time()).map(|t| t.secs()),
            "Keys": image(change.and_then(|c| c.keys())),
            "NewImage": image(change.and_then(|c| c.new_image())),
            "SequenceNumber": change.and_then(|c| c.sequence_number()),
            "SizeBytes": change.and_then(|c| c.size_bytes()).unwrap_or(0),
            "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|v| v.as_str()),
        },
    });
    // Every field above is one the type reads; it cannot fail.
    serde_json::from_value(value).unwrap_or_default()
}

/// The records of `batch`, read from the stream again.
pub async fn read_batch(
    streams: &Streams,
    batch: &BatchInfo,
) -> Result<Vec<aws_lambda_events::event::dynamodb::EventRecord>, String> {
    let fail = |e: String| format!("stream {} shard {}: {e}", batch.stream_arn, batch.shard_id);
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&batch.stream_arn)
        .shard_id(&batch.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&batch.start_sequence_number)
        .send()
        .await
        .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
    let mut next = iterator.shard_iterator().map(str::to_owned);
    let mut records = Vec::new();
    // A shard's records past the batch end it; so does an empty page.
    while let Some(position) = next.take() {
        let page = streams
            .get_records()
            .shard_iterator(position)
            .send()
            .await
            .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        if page.records().is_empty() {
            break;
        }
        for record in page.records() {
            let sequence = record.dynamodb().and_then(|c| c.sequence_number()).unwrap_or_default();
            if sequence_after(sequence, &batch.end_sequence_number) {
                return Ok(records);
            }
            records.push(lambda_record(record, &batch.stream_arn));
        }
        next = page.next_shard_iterator().map(str::to_owned);
    }
    Ok(records)
}

/// Publishes again every event of the table that occurred while `batch`
/// arrived: how many were published and how many failed.
async fn from_table(app: &App, bus: &EventBus, batch: &BatchInfo) -> Result<(usize, usize), String> {
    let (from, to) = batch.window().ok_or("the message does not say when its batch arrived")?;
    let events = shared::domain::events::stored_between(app, from, to)
        .await
        .map_err(|e| format!("reading the table's events: {e}"))?;
    if events.is_empty() {
        // A batch is never empty: its events are gone (a week) or it
        // arrived outside the window; keep the message for a look.
        return Err(format!("the table holds no event from {from} to {to}"));
    }
    let undone = shared::stream::publish_everywhere(app, Some(bus), &events).await;
    let failed = events.iter().filter(|e| undone.iter().any(|u| u.event_id == e.id)).count();
    Ok((events.len() - failed, failed))
}

/// What a redrive did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Dead-letter messages read.
    pub batches: usize,
    /// Events published again (bus and webhooks).
    pub published: usize,
    /// Messages deleted: every event of their batch published.
    pub redriven: usize,
    /// Of those, the batches no longer in the stream, whose events were
    /// read from the table.
    pub from_table: usize,
    /// Messages left in the queue (an event failed again, the records are
    /// no longer in the stream, or the message is not a stream's), each
    /// with why.
    pub kept: Vec<String>,
}

/// How long a message read here stays invisible: longer than one run, so a
/// kept message is not read twice by it.
const VISIBILITY_SECS: i32 = 900;

/// Publishes again the batches of the dead-letter queue `queue_url`.
pub async fn redrive(
    app: &App,
    bus: &EventBus,
    streams: &Streams,
    sqs: &Sqs,
    queue_url: &str,
) -> Result<Summary, String> {
    let mut summary = Summary::default();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_SECS)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| format!("queue {queue_url}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        if received.messages().is_empty() {
            return Ok(summary);
        }
        for message in received.messages() {
            summary.batches += 1;
            let id = message.message_id().unwrap_or("?").to_owned();
            let batch = match batch_of(message.body().unwrap_or_default()) {
                Ok(batch) => batch,
                Err(reason) => {
                    summary.kept.push(format!("{id}: {reason}"));
                    continue;
                }
            };
            let (published, failed) = match read_batch(streams, &batch).await {
                Ok(records) if !records.is_empty() => {
                    let outcome = shared::stream::handle(app, Some(bus), &records).await;
                    (outcome.published, outcome.failed.len())
                }
                // Gone from the stream: the table still holds its events.
                gone => match from_table(app, bus, &batch).await {
                    Ok(done) => {
                        summary.from_table += usize::from(done.1 == 0);
                        done
                    }
                    Err(reason) => {
                        let stream = gone.err().unwrap_or_else(|| "no longer in the stream (kept 24 hours)".into());
                        summary.kept.push(format!("{id}: {stream}; {reason}"));
                        continue;
                    }
                },
            };
            summary.published += published;
            if failed > 0 {
                summary.kept.push(format!("{id}: {failed} of its events failed again"));
                continue;
            }
            let receipt = message.receipt_handle().unwrap_or_default();
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|e| format!("queue {queue_url}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            summary.redriven += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_message_names_its_batch() {
        let message = r#"{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:eu-central-1:1:function:f",
            "condition":"RetryAttemptsExhausted","approximateInvokeCount":11},"responseContext":{"statusCode":200,
            "executedVersion":"$LATEST","functionError":null},"version":"1.0","timestamp":"2026-12-07T10:00:00.000Z",
            "DDBStreamBatchInfo":{"shardId":"shardId-000001","startSequenceNumber":"800000000003126276362",
            "endSequenceNumber":"800000000003126276370","approximateArrivalOfFirstRecord":"2026-12-07T09:00:00Z",
            "approximateArrivalOfLastRecord":"2026-12-07T09:00:01Z","batchSize":2,
            "streamArn":"arn:aws:dynamodb:eu-central-1:1:table/registrar/stream/2026-12-07T00:00:00.000"}}"#;
        let batch = batch_of(message).unwrap();
        assert_eq!(batch.shard_id, "shardId-000001");
        assert_eq!(batch.batch_size, 2);
        assert!(batch.stream_arn.ends_with("/stream/2026-12-07T00:00:00.000"));
        let (from, to) = batch.window().expect("the message says when its batch arrived");
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            ("2026-12-07T08:59:00+00:00".into(), "2026-12-07T09:01:01+00:00".into())
        );
        assert!(batch_of(r#"{"Records":[]}"#).is_err());
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(sequence_after("1000", "999"));
        assert!(!sequence_after("999", "1000"));
        assert!(!sequence_after("1000", "1000"));
    }
}
