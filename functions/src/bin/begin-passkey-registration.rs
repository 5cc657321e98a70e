//! Lambda function `begin-passkey-registration`: serves `Endpoint::BeginPasskeyRegistration` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::BeginPasskeyRegistration).await
}
