//! Lambda function `list-reference`: serves `Endpoint::ListReference` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ListReference).await
}
