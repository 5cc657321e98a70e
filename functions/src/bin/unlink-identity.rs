//! Lambda function `unlink-identity`: serves `Endpoint::UnlinkIdentity` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::UnlinkIdentity).await
}
