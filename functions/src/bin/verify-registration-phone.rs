//! Lambda function `verify-registration-phone`: serves `Endpoint::VerifyRegistrationPhone` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::VerifyRegistrationPhone).await
}
