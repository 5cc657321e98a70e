//! Lambda function `list-sessions`: serves `Endpoint::ListSessions` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ListSessions).await
}
