//! Lambda function `logout`: serves `Endpoint::Logout` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Logout).await
}
