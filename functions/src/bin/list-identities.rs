//! Lambda function `list-identities`: serves `Endpoint::ListIdentities` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ListIdentities).await
}
