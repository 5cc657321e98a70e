//! The one store contract suite, run unchanged on the in-memory store and on
//! DynamoDB through the real AWS SDK against moto's server.

use std::sync::Arc;

use shared::adapters::memory::MemoryStore;
use shared::adapters::system::ManualClock;
use shared::ports::Store;

use crate::common;

async fn memory() -> (Arc<dyn Store>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_test_start());
    (Arc::new(MemoryStore::new(clock.clone())), clock)
}

async fn dynamodb() -> (Arc<dyn Store>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_test_start());
    (common::dynamo_store(clock.clone()).await, clock)
}

mod on_memory {
    shared::store_contract_tests!(super::memory);
}

mod on_dynamodb {
    shared::store_contract_tests!(super::dynamodb);
}
