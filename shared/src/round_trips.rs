//! Counts DynamoDB round trips and estimates capacity units through an SDK
//! interceptor (feature `test-support`: the round-trip test of
//! `tests/api/round_trips.rs` and the benchmark's per-endpoint table): every HTTP attempt is a round trip; write units come from
//! the items in each request, read units from the items in each response,
//! by DynamoDB's rules (strongly consistent reads: 1 RCU per 4 KB; writes:
//! 1 WCU per 1 KB; both doubled inside transactions). moto answers a fixed
//! `ConsumedCapacity` whatever the item size, so the sizes are what count.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one call cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub round_trips: u32,
    pub operations: BTreeMap<String, u32>,
    pub read_units: f64,
    pub write_units: f64,
    /// Each round trip in order: its operation and the partition keys it
    /// named, to tell a regression's extra call by what it read or wrote.
    pub trace: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<Mutex<Tally>>);

impl Counter {
    /// The tally so far, and a fresh start.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.0.lock().expect("tally"))
    }
}

/// An attribute's size in bytes, from the JSON wire format.
fn wire_size(value: &Value) -> f64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else { return 0.0 };
    match (kind.as_str(), inner) {
        ("S" | "B", Value::String(s)) => s.len() as f64,
        ("N", Value::String(n)) => (n.len() / 2 + 1) as f64,
        ("M", Value::Object(map)) => 3.0 + map.iter().map(|(k, v)| k.len() as f64 + 1.0 + wire_size(v)).sum::<f64>(),
        ("L", Value::Array(items)) => 3.0 + items.iter().map(|v| 1.0 + wire_size(v)).sum::<f64>(),
        _ => 1.0,
    }
}

fn wire_item_size(item: &Value) -> f64 {
    item.as_object().map_or(0.0, |o| o.iter().map(|(k, v)| k.len() as f64 + wire_size(v)).sum())
}

fn attr_size(value: &AttributeValue) -> f64 {
    match value {
        AttributeValue::S(s) => s.len() as f64,
        AttributeValue::N(n) => (n.len() / 2 + 1) as f64,
        AttributeValue::B(b) => b.as_ref().len() as f64,
        AttributeValue::M(map) => 3.0 + map.iter().map(|(k, v)| k.len() as f64 + 1.0 + attr_size(v)).sum::<f64>(),
        AttributeValue::L(items) => 3.0 + items.iter().map(|v| 1.0 + attr_size(v)).sum::<f64>(),
        _ => 1.0,
    }
}

fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> f64 {
    item.iter().map(|(k, v)| k.len() as f64 + attr_size(v)).sum()
}

fn write_units(bytes: f64) -> f64 {
    (bytes / 1024.0).ceil().max(1.0)
}

fn read_units(bytes: f64) -> f64 {
    (bytes / 4096.0).ceil().max(1.0)
}

/// Write units of one request body (reads are counted on the way back).
fn request_write_units(operation: &str, body: &Value) -> f64 {
    match operation {
        "PutItem" => write_units(wire_item_size(&body["Item"])),
        // The item is small (a counter) or unknown here: one unit.
        "UpdateItem" | "DeleteItem" => 1.0,
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .map_or(0.0, |items| {
                items
                    .iter()
                    .map(|item| item.get("Put").map_or(1.0, |put| write_units(wire_item_size(&put["Item"]))))
                    .sum()
            })
            .mul_add(2.0, 0.0),
        _ => 0.0,
    }
}

/// Every `pk` string in a request body, in order.
fn partition_keys(value: &Value, keys: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                match (name.as_str(), inner.get("S").and_then(Value::as_str)) {
                    ("pk", Some(pk)) => keys.push(pk.to_owned()),
                    (":pk", Some(pk)) => keys.push(pk.to_owned()),
                    _ => partition_keys(inner, keys),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| partition_keys(item, keys)),
        _ => {}
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "registrar-round-trips"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request.headers().get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or("?");
        let body: Value = request.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
        let mut tally = self.0.lock().expect("tally");
        tally.round_trips += 1;
        let mut keys = Vec::new();
        partition_keys(&body, &mut keys);
        tally.trace.push(format!("{operation} {}", keys.join(" ")));
        *tally.operations.entry(operation.to_owned()).or_default() += 1;
        tally.write_units += request_write_units(operation, &body);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let units = if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            read_units(get.item().map_or(0.0, item_size))
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            // Each item of a batch is rounded up on its own.
            batch.responses().map_or(0.0, |tables| tables.values().flatten().map(|i| read_units(item_size(i))).sum())
        } else if let Some(query) = output.downcast_ref::<QueryOutput>() {
            read_units(query.items().iter().map(item_size).sum())
        } else {
            0.0
        };
        self.0.lock().expect("tally").read_units += units;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        let item = json!({ "pk": { "S": "USER#1" }, "ver": { "N": "12345" }, "body": { "S": "x".repeat(2000) } });
        assert_eq!(wire_item_size(&item), 2.0 + 6.0 + 3.0 + 3.0 + 4.0 + 2000.0);
        assert_eq!(request_write_units("PutItem", &json!({ "Item": item })), 2.0);
        let transaction = json!({ "TransactItems": [{ "Put": { "Item": item } }, { "Delete": {} }] });
        assert_eq!(request_write_units("TransactWriteItems", &transaction), 6.0);
        assert_eq!(read_units(0.0), 1.0);
        assert_eq!(read_units(4097.0), 2.0);
    }
}
