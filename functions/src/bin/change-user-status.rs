//! Lambda function `change-user-status`: serves `Endpoint::ChangeUserStatus` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ChangeUserStatus).await
}
