//! The AWS settings, resolved once from the environment by the `cityflow-storage` factory
//! and used as they are by the AWS backend. Plain data here, with no SDK, so that the factory
//! can describe an AWS target (`cityflow env`, `--dry-run`) in a build without the `aws`
//! feature.

use std::fmt;

/// Credentials given explicitly (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN` from the environment or `.env`). `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Where the reports go in AWS and how to reach S3 and DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION`.
    pub region: String,
    /// `DYNAMODB_REPORTS_TABLE`.
    pub dynamodb_table: String,
    /// `S3_REPORTS_BUCKET`.
    pub s3_bucket: String,
    /// `S3_REPORTS_PREFIX`: key prefix in the bucket, without leading or trailing `/` (may be
    /// empty).
    pub s3_prefix: String,
    /// `REPORT_TTL_DAYS`: DynamoDB items expire this long after export.
    pub ttl_days: u32,
    /// `AWS_ENDPOINT_URL`: for every service, unless a service-specific one is set.
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`.
    pub endpoint_url_s3: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`.
    pub endpoint_url_dynamodb: Option<String>,
    /// Explicit credentials; `None` uses the SDK's default chain (profiles, container and
    /// instance roles, as in Lambda).
    pub credentials: Option<StaticCredentials>,
}

impl AwsSettings {
    pub const DEFAULT_REGION: &'static str = "us-east-1";
    pub const DEFAULT_TABLE: &'static str = "cityflow-daily-reports";
    pub const DEFAULT_BUCKET: &'static str = "cityflow-reports";
    pub const DEFAULT_PREFIX: &'static str = "reports";
    pub const DEFAULT_TTL_DAYS: u32 = 365;

    /// The defaults, in `region`.
    pub fn new(region: impl Into<String>) -> Self {
        AwsSettings {
            region: region.into(),
            dynamodb_table: Self::DEFAULT_TABLE.into(),
            s3_bucket: Self::DEFAULT_BUCKET.into(),
            s3_prefix: Self::DEFAULT_PREFIX.into(),
            ttl_days: Self::DEFAULT_TTL_DAYS,
            endpoint_url: None,
            endpoint_url_s3: None,
            endpoint_url_dynamodb: None,
            credentials: None,
        }
    }

    /// The S3 endpoint in effect, when overridden.
    pub fn s3_endpoint(&self) -> Option<&str> {
        self.endpoint_url_s3
            .as_deref()
            .or(self.endpoint_url.as_deref())
    }

    /// The DynamoDB endpoint in effect, when overridden.
    pub fn dynamodb_endpoint(&self) -> Option<&str> {
        self.endpoint_url_dynamodb
            .as_deref()
            .or(self.endpoint_url.as_deref())
    }

    /// Values that must never appear in any output.
    pub fn secrets(&self) -> Vec<String> {
        self.credentials
            .iter()
            .flat_map(|c| [Some(c.secret_access_key.clone()), c.session_token.clone()])
            .flatten()
            .filter(|s| s.len() >= 4)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_key_and_token() {
        let mut c = AwsSettings::new("eu-west-3");
        c.credentials = Some(StaticCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "canary-secret-key".into(),
            session_token: Some("canary-session-token".into()),
        });
        let debug = format!("{c:?}");
        assert!(debug.contains("AKIDEXAMPLE"));
        assert!(!debug.contains("canary-secret-key"), "{debug}");
        assert!(!debug.contains("canary-session-token"), "{debug}");
        assert_eq!(c.secrets().len(), 2);
    }

    #[test]
    fn service_endpoints_override_the_general_one() {
        let mut c = AwsSettings::new("us-east-1");
        assert_eq!(c.s3_endpoint(), None);
        c.endpoint_url = Some("http://127.0.0.1:4566".into());
        c.endpoint_url_dynamodb = Some("http://127.0.0.1:8000".into());
        assert_eq!(c.s3_endpoint(), Some("http://127.0.0.1:4566"));
        assert_eq!(c.dynamodb_endpoint(), Some("http://127.0.0.1:8000"));
    }
}
