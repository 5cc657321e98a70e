//! Lambda function `login`: serves `Endpoint::Login` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Login).await
}
