//! Lambda function `send-sign-in-code`: serves `Endpoint::SendSignInCode` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::SendSignInCode).await
}
