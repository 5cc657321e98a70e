//! Lambda function `oauth-userinfo`: serves `Endpoint::OauthUserinfo` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::OauthUserinfo).await
}
