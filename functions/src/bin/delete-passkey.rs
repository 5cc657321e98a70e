//! Lambda function `delete-passkey`: serves `Endpoint::DeletePasskey` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::DeletePasskey).await
}
