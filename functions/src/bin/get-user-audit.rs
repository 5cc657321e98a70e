//! Lambda function `get-user-audit`: serves `Endpoint::GetUserAudit` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetUserAudit).await
}
