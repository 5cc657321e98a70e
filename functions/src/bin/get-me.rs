//! Lambda function `get-me`: serves `Endpoint::GetMe` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetMe).await
}
