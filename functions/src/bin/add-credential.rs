//! Lambda function `add-credential`: serves its one route from `shared`'s route table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run("add-credential").await
}
