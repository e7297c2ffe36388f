#![forbid(unsafe_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    orderflow_lambda::init_logging();
    orderflow_lambda::run(validate_data::handler).await
}
