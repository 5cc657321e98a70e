//! Lambda function `remove-totp`: serves `Endpoint::RemoveTotp` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::RemoveTotp).await
}
