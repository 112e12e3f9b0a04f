//! `cityflow serve`: the HTTP API over the configured report store.

use std::net::SocketAddr;

use cityflow_api::ApiConfig;

use super::Context;
use crate::cli::ServeArgs;
use crate::exit::{usage, Failure};

pub async fn run(ctx: &Context, args: ServeArgs) -> Result<u8, Failure> {
    let mut config = ApiConfig::from_env(&ctx.env)?;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    let addr: SocketAddr = config.bind.parse().map_err(|_| {
        usage(format!(
            "--bind / CITYFLOW_API_BIND: {:?} is not an address (expected IP:PORT, e.g. 127.0.0.1:8080)",
            config.bind
        ))
    })?;
    let storage = cityflow_storage::build(&ctx.config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().unwrap_or(addr);
    eprintln!(
        "cityflow serve: reports from {} on http://{local}/ (Ctrl-C or SIGTERM to stop)",
        storage.reports.describe()
    );
    if config.token.is_none() && !addr.ip().is_loopback() {
        eprintln!(
            "warning: CITYFLOW_API_TOKEN is not set and {addr} is reachable beyond this machine: \
             anyone who can reach it can read every report"
        );
    }
    let router =
        cityflow_api::router_with_maps(storage.reports.clone(), Some(storage.maps.clone()), config);
    cityflow_api::serve(listener, router, cityflow_api::shutdown_signal())
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("serving on {local}: {e}")))?;
    eprintln!("cityflow serve: stopped");
    Ok(0)
}
