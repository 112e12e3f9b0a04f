//! Exit codes and how failures are shown.

use cityflow_core::Error;

/// An export or a target failed.
pub const FAILURE: u8 = 1;
/// Usage, configuration or input error.
pub const USAGE: u8 = 2;

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The caller's input or configuration: exit 2.
    Usage(anyhow::Error),
    /// A target failed: exit 1.
    Runtime(anyhow::Error),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => USAGE,
            Failure::Runtime(_) => FAILURE,
        }
    }

    /// One line on stderr (the whole cause chain, `: `-separated); with `--json`, also a JSON
    /// object on stdout so that scripts always get something to parse.
    pub fn report(&self, json: bool) {
        let (Failure::Usage(e) | Failure::Runtime(e)) = self;
        let message = format!("{e:#}").replace('\n', " ");
        eprintln!("error: {message}");
        if json {
            println!(
                "{}",
                serde_json::json!({"ok": false, "exit_code": self.code(), "error": message})
            );
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if e.is_caller_error() {
            Failure::Usage(e.into())
        } else {
            Failure::Runtime(e.into())
        }
    }
}

/// A usage error with a message.
pub fn usage(message: impl std::fmt::Display) -> Failure {
    Failure::Usage(anyhow::anyhow!("{message}"))
}
