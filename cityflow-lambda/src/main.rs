//! `cityflow-report-lambda`: the Lambda entry point. Configuration and clients are built once,
//! at init; each event goes to [`cityflow_lambda::Function::handle`].

use cityflow_lambda::{Function, InvocationError};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::Instrument;

fn main() -> Result<(), lambda_runtime::Error> {
    // Before the runtime's threads exist.
    cityflow_pipeline::limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), lambda_runtime::Error> {
    cityflow_lambda::init_logging();
    // Lambda's own variables, never a `.env` file: nothing is read from the task's directory.
    let env = cityflow_storage::load_env(None)?;
    let function = Function::from_env(&env).await.inspect_err(|e| {
        tracing::error!("configuration refused at init: {e}");
    })?;
    tracing::info!(
        mode = %function.config().mode,
        mode_reason = %function.config().mode_reason,
        csv = %function.config().csv_target(),
        json = %function.config().json_target(),
        metrics = %function.config().metrics_dir,
        "initialised"
    );
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move {
            // The backfill state machine's planning and summing steps: pure, no store.
            if let Some(answer) = cityflow_lambda::backfill::answer(&event.payload) {
                return answer.map_err(|e| {
                    tracing::error!("{e}");
                    Diagnostic {
                        error_type: "BadEvent".into(),
                        error_message: e.to_string(),
                    }
                });
            }
            match function.handle(&event.payload).await {
                Ok(summary) => {
                    tracing::info!(dates = summary.dates.len(), "done");
                    Ok(serde_json::to_value(summary).map_err(|e| Diagnostic {
                        error_type: "Internal".into(),
                        error_message: e.to_string(),
                    })?)
                }
                Err(e) => {
                    if let InvocationError::Export { summary, .. } = &e {
                        // The failed invocation's answer is lost to the caller: log it whole.
                        let summary = serde_json::to_string(summary).unwrap_or_default();
                        tracing::error!(summary = %summary, "{e}");
                    } else {
                        tracing::error!("{e}");
                    }
                    Err(Diagnostic {
                        error_type: e.error_type().into(),
                        error_message: e.to_string(),
                    })
                }
            }
        }
        .instrument(span)
    }))
    .await
}
