//! Lambda function `verify-credential`: serves `Endpoint::VerifyCredential` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::VerifyCredential).await
}
