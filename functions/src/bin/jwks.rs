//! Lambda function `jwks`: serves `Endpoint::Jwks` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::Jwks).await
}
