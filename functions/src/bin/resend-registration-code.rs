//! Lambda function `resend-registration-code`: serves `Endpoint::ResendRegistrationCode` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ResendRegistrationCode).await
}
