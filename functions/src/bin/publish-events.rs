//! The table's stream → the stack's event bus and the tenants' webhooks.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::stream::run().await
}
