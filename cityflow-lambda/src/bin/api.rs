//! `cityflow-api-lambda`: the HTTP API on Lambda. The same router as `cityflow serve`, over
//! the store the environment selects (DynamoDB in AWS), behind API Gateway's HTTP API
//! (`$default` route) or a function URL. Configuration is read and checked once, at init;
//! nothing is contacted before the first request.

use lambda_http::Error;

fn main() -> Result<(), Error> {
    // glibc's arenas stay as they are: requests allocate on every runtime thread at once
    // (see `cityflow serve`).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), Error> {
    cityflow_lambda::init_logging();
    // Lambda's own variables, never a `.env` file.
    let env = cityflow_storage::load_env(None)?;
    let config = cityflow_storage::StorageConfig::from_env(&env)
        .inspect_err(|e| tracing::error!("configuration refused at init: {e}"))?;
    let api = cityflow_api::ApiConfig::from_env(&env)
        .inspect_err(|e| tracing::error!("configuration refused at init: {e}"))?;
    let storage = cityflow_storage::build(&config).await?;
    tracing::info!(
        mode = %config.mode,
        store = %storage.reports.describe(),
        token = api.token.is_some(),
        "initialised"
    );
    lambda_http::run(cityflow_api::router_with_maps(
        storage.reports.clone(),
        Some(storage.maps.clone()),
        api,
    ))
    .await
}
