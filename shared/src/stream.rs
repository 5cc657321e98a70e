//! The `publish-events` function: the table's stream (DynamoDB Streams,
//! `NEW_IMAGE`) hands it batches of changed items; each new event item
//! (`EVENT#…`, an INSERT) is put on the stack's EventBridge bus and
//! delivered to its tenant's webhook by [`publish`]. The records not done
//! are answered as batch item failures: the event source mapping tries them
//! again (and everything after the first of them), then hands their
//! positions to the dead-letter queue, whence `registrar-admin events
//! redrive` publishes them again. Every delivery carries the event's id, so
//! receivers drop the repeats at-least-once brings.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord as StreamRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;

use crate::adapters::eventbridge::EventBus;
use crate::app::App;
use crate::config::{Config, ConfigError, Senders};
use crate::domain::events::{Undelivered, publish};
use crate::ports::{Item, Key};
use crate::table::{EventRecord, Kind, decode_event};

/// The event a stream record carries: `Ok(None)` for any record but the
/// INSERT of an event item (the stream holds every change of the table);
/// an error for an event item that does not decode (tried again, then
/// kept in the dead-letter queue, never dropped unseen).
pub fn event_of(record: &StreamRecord) -> Result<Option<EventRecord>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let image = serde_json::to_value(&record.change.new_image).map_err(|e| e.to_string())?;
    let text = |name: &str| image.get(name).and_then(|v| v.get("S")).and_then(Value::as_str);
    let (Some(pk), Some(sk)) = (text("pk"), text("sk")) else {
        return Ok(None);
    };
    let key = Key::new(pk, sk);
    if Kind::of(&key) != Kind::Event {
        return Ok(None);
    }
    let body = text("body").ok_or("an event item without a body")?;
    let body: Value = serde_json::from_str(body).map_err(|e| format!("an event item's body is not JSON: {e}"))?;
    decode_event(Item::new(key, body, None)).map(Some).map_err(|e| e.to_string())
}

/// What became of a batch.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The events put on the bus and delivered to their webhooks.
    pub published: usize,
    /// The sequence numbers of the records not done, in the batch's order.
    pub failed: Vec<String>,
    /// Why, one line each (the bus's or the webhook's answer).
    pub reasons: Vec<String>,
}

impl Outcome {
    /// The function's answer: the records for the stream to try again.
    pub fn response(&self) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for sequence in &self.failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence.clone());
            response.batch_item_failures.push(failure);
        }
        response
    }
}

/// Publishes the events of `records` (the bus, then the webhooks; no bus in
/// development mode under `cargo lambda watch`).
pub async fn handle(app: &App, bus: Option<&EventBus>, records: &[StreamRecord]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut events: Vec<(String, EventRecord)> = Vec::new();
    for record in records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        match event_of(record) {
            Ok(Some(event)) => events.push((sequence, event)),
            Ok(None) => {}
            Err(reason) => {
                tracing::error!(%sequence, %reason, "a stream record that is no event");
                outcome.failed.push(sequence);
                outcome.reasons.push(reason);
            }
        }
    }
    let batch: Vec<EventRecord> = events.iter().map(|(_, e)| e.clone()).collect();
    let undone = publish_everywhere(app, bus, &batch).await;
    outcome.reasons.extend(undone.iter().map(|u| format!("{}: {}", u.event_id, u.reason)));
    for (sequence, event) in &events {
        if undone.iter().any(|u| u.event_id == event.id) {
            outcome.failed.push(sequence.clone());
        } else {
            outcome.published += 1;
        }
    }
    outcome
}

/// Puts `events` on the bus (when there is one) and delivers them to their
/// tenants' webhooks: those not done, each with why.
pub async fn publish_everywhere(app: &App, bus: Option<&EventBus>, events: &[EventRecord]) -> Vec<Undelivered> {
    let mut undone = match bus {
        Some(bus) => bus.put(events).await,
        None => Vec::new(),
    };
    undone.extend(publish(app, events).await);
    undone
}

/// The function's `main`: the app (no senders) and the bus once per cold
/// start, then every batch the stream hands it.
pub async fn run() -> Result<(), Error> {
    let config = Config::from_env(true)?;
    crate::logs::init(config.json_logs);
    let sdk = config.sdk_config().await;
    let bus = match (&config.event_bus, &sdk) {
        (Some(bus), Some(sdk)) => Some(EventBus::new(aws_sdk_eventbridge::Client::new(sdk), bus.clone())),
        _ if config.dev => {
            tracing::warn!("development mode: no event bus; events go to the webhooks only");
            None
        }
        _ => return Err(ConfigError("REGISTRAR_EVENT_BUS is required".into()).into()),
    };
    let bus = Arc::new(bus);
    let clock = Arc::new(crate::adapters::system::SystemClock);
    let app = config.build_app_for(sdk.as_ref(), clock, Senders::NONE).await?;
    if config.dev
        && let Some(api_key) = &config.api_key
    {
        // The sandbox tenant, whose webhook is REGISTRAR_WEBHOOK_URL.
        let tenant = crate::local::sandbox_tenant(&config, config.addr.port());
        crate::local::seed_tenant(&app, &tenant, api_key).await?;
    }
    let app = Arc::new(app);
    // Several batches at once where the environment asks for it (as the
    // HTTP functions do: `AWS_LAMBDA_MAX_CONCURRENCY`).
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<Event>| {
        let (app, bus) = (app.clone(), bus.clone());
        async move {
            let outcome = handle(&app, bus.as_ref().as_ref(), &event.payload.records).await;
            if !outcome.failed.is_empty() {
                tracing::warn!(published = outcome.published, failed = outcome.failed.len(), "events to try again");
            }
            Ok::<DynamoDbEventResponse, Error>(outcome.response())
        }
    }))
    .await
}
