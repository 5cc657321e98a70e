//! Lambda function `preflight`: serves `Endpoint::Preflight` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Preflight).await
}
