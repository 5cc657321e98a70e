//! Lambda function `verify-registration-email`: serves `Endpoint::VerifyRegistrationEmail` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::VerifyRegistrationEmail).await
}
