//! Lambda function `confirm-totp`: serves `Endpoint::ConfirmTotp` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ConfirmTotp).await
}
