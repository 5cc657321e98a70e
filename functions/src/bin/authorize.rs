//! Lambda function `authorize`: serves `Endpoint::Authorize` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Authorize).await
}
