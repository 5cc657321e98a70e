//! Lambda function `send-mfa-code`: serves `Endpoint::SendMfaCode` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::SendMfaCode).await
}
