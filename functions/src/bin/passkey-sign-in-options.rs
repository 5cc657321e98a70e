//! Lambda function `passkey-sign-in-options`: serves `Endpoint::PasskeySignInOptions` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::PasskeySignInOptions).await
}
