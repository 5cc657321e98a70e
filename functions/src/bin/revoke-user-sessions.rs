//! Lambda function `revoke-user-sessions`: serves `Endpoint::RevokeUserSessions` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::RevokeUserSessions).await
}
