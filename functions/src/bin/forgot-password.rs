//! Lambda function `forgot-password`: serves `Endpoint::ForgotPassword` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ForgotPassword).await
}
