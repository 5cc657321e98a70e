//! Lambda function `oauth-logout`: serves `Endpoint::OauthLogout` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::OauthLogout).await
}
