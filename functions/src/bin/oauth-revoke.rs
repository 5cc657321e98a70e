//! Lambda function `oauth-revoke`: serves `Endpoint::OauthRevoke` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::OauthRevoke).await
}
