//! Lambda function `reset-user-password`: serves `Endpoint::ResetUserPassword` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ResetUserPassword).await
}
