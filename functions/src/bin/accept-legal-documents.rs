//! Lambda function `accept-legal-documents`: serves `Endpoint::AcceptLegalDocuments` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::AcceptLegalDocuments).await
}
