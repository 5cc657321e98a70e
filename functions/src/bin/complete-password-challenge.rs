//! Lambda function `complete-password-challenge`: serves `Endpoint::CompletePasswordChallenge` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::CompletePasswordChallenge).await
}
