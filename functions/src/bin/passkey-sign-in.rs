//! Lambda function `passkey-sign-in`: serves `Endpoint::PasskeySignIn` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::PasskeySignIn).await
}
