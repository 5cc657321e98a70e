//! Lambda function `change-password`: serves `Endpoint::ChangePassword` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ChangePassword).await
}
