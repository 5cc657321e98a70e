//! Lambda function `unlock-user`: serves `Endpoint::UnlockUser` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::UnlockUser).await
}
