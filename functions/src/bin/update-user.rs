//! Lambda function `update-user`: serves `Endpoint::UpdateUser` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::UpdateUser).await
}
