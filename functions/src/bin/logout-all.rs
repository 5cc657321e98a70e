//! Lambda function `logout-all`: serves `Endpoint::LogoutAll` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::LogoutAll).await
}
