//! Lambda function `export-me`: serves `Endpoint::ExportMe` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ExportMe).await
}
