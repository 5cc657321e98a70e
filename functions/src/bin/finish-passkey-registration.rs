//! Lambda function `finish-passkey-registration`: serves `Endpoint::FinishPasskeyRegistration` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::FinishPasskeyRegistration).await
}
