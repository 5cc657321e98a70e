//! Lambda function `openid-configuration`: serves `Endpoint::OpenidConfiguration` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::OpenidConfiguration).await
}
