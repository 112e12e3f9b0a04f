//! `cityflow setup`: create what the configured targets need, idempotently.

use std::io::IsTerminal;
use std::sync::Arc;

use cityflow_core::{SetupAction, SetupProgress};
use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::exit::Failure;

/// A progress bar on stderr for the long steps of setup (summaries added to the reports
/// stored before the summary index), drawn only on a terminal.
struct SetupBar(ProgressBar);

impl SetupProgress for SetupBar {
    fn start(&self, what: &str, total: u64) {
        self.0.reset();
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} reports ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.0.set_message(what.to_string());
    }
    fn advance(&self) {
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub async fn run(ctx: &Context) -> Result<u8, Failure> {
    let storage = cityflow_storage::build(&ctx.config).await?;
    let mut actions: Vec<SetupAction> = storage.blobs.setup().await?;
    let bar = if !ctx.json && std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    actions.extend(
        storage
            .reports
            .setup_with_progress(Arc::new(SetupBar(bar)))
            .await?,
    );
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
