//! Lambda function `oauth-token`: serves `Endpoint::OauthToken` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::OauthToken).await
}
