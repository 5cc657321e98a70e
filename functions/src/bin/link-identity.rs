//! Lambda function `link-identity`: serves `Endpoint::LinkIdentity` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::LinkIdentity).await
}
