//! Lambda function `verify-mfa`: serves `Endpoint::VerifyMfa` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::VerifyMfa).await
}
