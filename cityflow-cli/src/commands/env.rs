//! `cityflow env`: the detected mode, every target and every setting, secrets redacted.

use cityflow_api::ApiConfig;
use cityflow_storage::{Mode, VariableReport};

use super::Context;
use crate::exit::Failure;

pub fn run(ctx: &Context) -> Result<u8, Failure> {
    let c = &ctx.config;
    let mut variables = c.variables(&ctx.env);
    // `cityflow serve`'s settings too, checked as `serve` checks them (a bad one is exit 2).
    let api = ApiConfig::from_env(&ctx.env)?;
    variables.extend(
        api.settings()
            .into_iter()
            .map(|(name, value)| VariableReport {
                name,
                value,
                set: ctx.env.get(name).is_some_and(|v| !v.trim().is_empty()),
            }),
    );
    if ctx.json {
        let out = serde_json::json!({
            "mode": c.mode,
            "mode_reason": c.mode_reason.to_string(),
            "metrics": c.metrics_dir.to_string(),
            "csv": {"backend": c.csv, "target": c.csv_target()},
            "json": {"backend": c.json, "target": c.json_target()},
            "variables": variables,
        });
        println!("{out:#}");
        return Ok(0);
    }
    // The variable that decided, when one did: `mode AWS (AWS_LAMBDA_FUNCTION_NAME=…)`.
    let reason = match c.mode_reason.variable {
        Some(_) => format!(" ({})", c.mode_reason),
        None => String::new(),
    };
    match c.mode {
        Mode::Local => println!("🏠 Mode LOCAL DÉVELOPPEMENT{reason}"),
        Mode::Aws => println!("☁️  Mode AWS PRODUCTION{reason}"),
    }
    println!("   - CSV  : {}", c.csv_target());
    println!("   - JSON : {}", c.json_target());
    println!("   - inputs : {}", c.metrics_dir);
    println!();
    println!("Variables (value in effect; * = set in the environment or .env):");
    let width = variables.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for v in variables {
        let value = if v.value.is_empty() {
            "(unset)".to_string()
        } else {
            v.value
        };
        let mark = if v.set { "*" } else { " " };
        println!("  {mark} {:width$}  {value}", v.name);
    }
    Ok(0)
}
