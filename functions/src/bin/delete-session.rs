//! Lambda function `delete-session`: serves `Endpoint::DeleteSession` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::DeleteSession).await
}
