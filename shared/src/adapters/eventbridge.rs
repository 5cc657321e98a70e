//! EventBridge: the stack's event bus, on which publish-events puts every
//! event (source `registrar`, detail-type the event's type, detail its
//! payload), for the stack's own rules and other accounts' subscribers.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::domain::events::Undelivered;
use crate::table::EventRecord;

/// Every event's `source` on the bus.
pub const SOURCE: &str = "registrar";

/// `PutEvents` takes at most this many entries a call.
const ENTRIES_PER_CALL: usize = 10;

/// The stack's bus through the AWS SDK.
#[derive(Clone)]
pub struct EventBus {
    client: Client,
    bus: String,
}

impl EventBus {
    /// The bus `bus` (a name or an ARN).
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }

    /// Puts `events` on the bus, ten a call; returns those the bus did not
    /// take (a refused entry, or a call that failed), for the caller to try
    /// again.
    pub async fn put(&self, events: &[EventRecord]) -> Vec<Undelivered> {
        let mut refused = Vec::new();
        for chunk in events.chunks(ENTRIES_PER_CALL) {
            let mut call = self.client.put_events();
            for event in chunk {
                let detail = match serde_json::to_string(event) {
                    Ok(detail) => detail,
                    Err(err) => {
                        refused.push(Undelivered { event_id: event.id.clone(), reason: err.to_string() });
                        continue;
                    }
                };
                let time = bus_time(event);
                call = call.entries(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(&event.event_type)
                        .detail(detail)
                        .set_time(time)
                        .build(),
                );
            }
            let sent: Vec<&EventRecord> =
                chunk.iter().filter(|e| !refused.iter().any(|r| r.event_id == e.id)).collect();
            if sent.is_empty() {
                continue;
            }
            match call.send().await {
                Ok(out) if out.failed_entry_count() == 0 => {}
                // The answer's entries are in the request's order.
                Ok(out) => {
                    for (event, entry) in sent.iter().zip(out.entries()) {
                        if let Some(code) = entry.error_code() {
                            let reason = format!("{code}: {}", entry.error_message().unwrap_or(""));
                            refused.push(Undelivered { event_id: event.id.clone(), reason });
                        }
                    }
                }
                Err(err) => {
                    let reason = DisplayErrorContext(err).to_string();
                    tracing::warn!(%reason, events = sent.len(), "the event bus refused a batch");
                    refused.extend(sent.iter().map(|e| Undelivered { event_id: e.id.clone(), reason: reason.clone() }));
                }
            }
        }
        refused
    }
}

/// The event's time, as EventBridge's `time` (to the second it keeps).
fn bus_time(event: &EventRecord) -> Option<aws_sdk_eventbridge::primitives::DateTime> {
    let micros = event.occurred_at.timestamp_micros();
    Some(aws_sdk_eventbridge::primitives::DateTime::from_secs_and_nanos(
        micros.div_euclid(1_000_000),
        (micros.rem_euclid(1_000_000) * 1000) as u32,
    ))
}
