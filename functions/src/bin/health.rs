//! Lambda function `health`: serves `Endpoint::Health` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Health).await
}
