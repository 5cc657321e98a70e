//! Lambda function `reset-password`: serves `Endpoint::ResetPassword` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ResetPassword).await
}
