//! Lambda function `regenerate-recovery-codes`: serves `Endpoint::RegenerateRecoveryCodes` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::RegenerateRecoveryCodes).await
}
