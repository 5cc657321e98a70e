//! Lambda function `update-me`: serves `Endpoint::UpdateMe` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::UpdateMe).await
}
