//! Lambda function `get-user`: serves `Endpoint::GetUser` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetUser).await
}
