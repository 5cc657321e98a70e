//! Lambda function `refresh`: serves `Endpoint::Refresh` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Refresh).await
}
