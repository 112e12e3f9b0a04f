//! `cityflow setup`: create what the configured targets need, idempotently.

use cityflow_core::SetupAction;

use super::Context;
use crate::exit::Failure;

pub async fn run(ctx: &Context) -> Result<u8, Failure> {
    let storage = cityflow_storage::build(&ctx.config).await?;
    let mut actions: Vec<SetupAction> = storage.blobs.setup().await?;
    actions.extend(storage.reports.setup().await?);
    if ctx.json {
        let out = serde_json::json!({"ok": true, "mode": storage.mode, "actions": actions});
        println!("{out:#}");
        return Ok(0);
    }
    let created = actions.iter().filter(|a| a.created).count();
    for a in &actions {
        if a.created {
            println!("✓ created: {}", a.resource);
        } else {
            println!("· already there: {}", a.resource);
        }
    }
    println!(
        "{created} created, {} already there",
        actions.len() - created
    );
    Ok(0)
}
