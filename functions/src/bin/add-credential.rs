//! Lambda function `add-credential`: serves `Endpoint::AddCredential` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::AddCredential).await
}
