//! SDK errors → core error kinds, naming the service and endpoint, secrets scrubbed.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use cityflow_core::Error;

/// Who failed: the service, its endpoint and the resource, for messages.
pub(crate) struct Failing<'a> {
    /// `S3 bucket cityflow-reports at http://127.0.0.1:4566`.
    pub target: String,
    /// The variable that names the resource, for hints (`S3_REPORTS_BUCKET`).
    pub resource_variable: &'a str,
    /// Values never to show.
    pub secrets: &'a [String],
}

/// Error codes saying "try again later".
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "TransactionConflictException",
];

/// Error codes saying the credentials or permissions are wrong.
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
];

/// Error codes saying the credentials are fine but a policy forbids the action.
const DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "AllAccessDisabled"];

impl Failing<'_> {
    pub(crate) fn scrub(&self, text: String) -> String {
        self.secrets
            .iter()
            .fold(text, |t, s| t.replace(s.as_str(), "***"))
    }

    /// Maps an SDK error raised while doing `what`.
    pub(crate) fn map<E, R>(&self, e: SdkError<E, R>, what: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let detail = self.scrub(DisplayErrorContext(&e).to_string());
        let target = self.target.clone();
        let unavailable = |message: String| Error::Unavailable {
            target: target.clone(),
            message,
            source: None,
        };
        match &e {
            SdkError::TimeoutError(_) => unavailable(format!(
                "no answer in time while trying to {what} ({detail})"
            )),
            SdkError::DispatchFailure(d) => {
                if detail.contains("credentials") {
                    Error::config(
                        "AWS credentials",
                        format!(
                            "no usable AWS credentials to {what} on {target} (set \
                             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or run with a role): {detail}"
                        ),
                    )
                } else if d.is_timeout() {
                    unavailable(format!(
                        "no answer in time while trying to {what} ({detail})"
                    ))
                } else {
                    unavailable(format!("cannot connect to {what} ({detail})"))
                }
            }
            SdkError::ConstructionFailure(_) => Error::config(
                "AWS configuration",
                format!("cannot build the request to {what} on {target}: {detail}"),
            ),
            SdkError::ResponseError(_) => unavailable(format!(
                "unreadable answer while trying to {what} ({detail})"
            )),
            SdkError::ServiceError(_) => {
                let code = e.code().unwrap_or("");
                if TRANSIENT_CODES.contains(&code) {
                    unavailable(format!("{code} while trying to {what}"))
                } else if DENIED_CODES.contains(&code) {
                    // `what` names the action (`write reports/… (s3:PutObject)`).
                    Error::config(
                        target.clone(),
                        format!(
                            "access denied ({code}) while trying to {what}: the role or user \
                             running cityflow needs that permission"
                        ),
                    )
                } else if CREDENTIAL_CODES.contains(&code) {
                    Error::config(
                        "AWS credentials",
                        format!("{target} refused the credentials ({code}) while trying to {what}: {detail}"),
                    )
                } else {
                    Error::Backend {
                        target,
                        message: format!("cannot {what}: {detail}"),
                        source: None,
                    }
                }
            }
            _ => Error::Backend {
                target,
                message: format!("cannot {what}: {detail}"),
                source: None,
            },
        }
    }

    /// The error for a missing bucket or table: a configuration problem, with the two fixes.
    pub(crate) fn missing_resource(&self, what: &str) -> Error {
        Error::config(
            self.resource_variable,
            format!(
                "{} does not exist (while trying to {what}): create it with `cityflow setup`, \
                 or set {} to an existing one",
                self.target, self.resource_variable
            ),
        )
    }
}
