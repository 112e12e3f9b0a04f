//! Configuration of the AWS backend: the settings the factory resolved from the environment
//! ([`AwsSettings`], defined once in `cityflow-core`) plus the SDK's bounds. Plain data;
//! nothing here touches the network.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use cityflow_core::AwsSettings;

/// Where and how to reach S3 and DynamoDB: the settings, and the bounds on every call.
/// Dereferences to its [`AwsSettings`] (`config.s3_bucket`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    pub settings: AwsSettings,
    /// Bound on opening a connection.
    pub connect_timeout: Duration,
    /// Bound on each attempt (the SDK retries transient failures with backoff), and on the
    /// wait for each piece of a streamed download.
    pub attempt_timeout: Duration,
    /// Bound on a whole operation, retries included.
    pub operation_timeout: Duration,
    /// Attempts per operation, the first included; also the attempts to resume a streamed
    /// download that was cut.
    pub max_attempts: u32,
}

impl AwsConfig {
    /// `settings` with bounds that make an unreachable endpoint fail within 15 s: 3 attempts
    /// of at most 4 s (connection at most 2 s), the whole operation at most 12 s.
    pub fn new(settings: AwsSettings) -> Self {
        AwsConfig {
            settings,
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(4),
            operation_timeout: Duration::from_secs(12),
            max_attempts: 3,
        }
    }
}

impl Deref for AwsConfig {
    type Target = AwsSettings;
    fn deref(&self) -> &AwsSettings {
        &self.settings
    }
}

impl DerefMut for AwsConfig {
    fn deref_mut(&mut self) -> &mut AwsSettings {
        &mut self.settings
    }
}
