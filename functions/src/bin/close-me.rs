//! Lambda function `close-me`: serves `Endpoint::CloseMe` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::CloseMe).await
}
