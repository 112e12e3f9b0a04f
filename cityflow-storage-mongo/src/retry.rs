//! Retries with exponential backoff around one MongoDB operation.
//!
//! The driver's own retries are turned off (see `client()` in `report_store.rs`): with them,
//! one attempt could run two server selections and no per-attempt bound would hold. Here every
//! attempt gets its own deadline, and only errors a caller could retry
//! ([`Error::is_retryable`]: unreachable, timed out, transient) are tried again. Every
//! operation of the store is idempotent (upsert by date, delete by date, reads, index
//! creation), so an attempt that timed out after the server applied it is safe to repeat.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use cityflow_core::{Error, Result};

/// How many attempts, how long each may take, and how long to wait between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub max_attempts: u32,
    /// Deadline of each attempt (not of the whole operation).
    pub attempt_timeout: Duration,
    /// Wait before the second attempt; doubled before each next one, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The longest an operation can take before its error is returned: every attempt at its
    /// deadline plus every backoff at its maximum.
    pub fn worst_case(&self) -> Duration {
        let attempts = self.max_attempts.max(1);
        let backoffs: Duration = (1..attempts).map(|n| self.backoff_ceiling(n)).sum();
        self.attempt_timeout * attempts + backoffs
    }

    /// The longest wait after failed attempt `n` (1-based).
    fn backoff_ceiling(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The wait after failed attempt `n`: between half the ceiling and the ceiling, so that
    /// concurrent runs that failed together do not retry together.
    fn backoff(&self, n: u32) -> Duration {
        let ceiling = self.backoff_ceiling(n);
        let half = ceiling / 2;
        let spread = (ceiling - half).as_nanos() as u64;
        let jitter = if spread == 0 {
            0
        } else {
            random_u64() % (spread + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// A random number from the standard library's per-instance random hasher keys (no extra
/// dependency for a jitter).
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish()
}

/// Runs `attempt` until it succeeds, fails with an error that is not retryable, or
/// `policy.max_attempts` attempts have failed; each attempt is cut at
/// `policy.attempt_timeout`. The last error is returned, its message saying how many attempts
/// were made.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    target: &str,
    what: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let attempts = policy.max_attempts.max(1);
    let mut n = 1;
    loop {
        let error = match tokio::time::timeout(policy.attempt_timeout, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e,
            Err(_) => Error::Unavailable {
                target: target.to_string(),
                message: format!(
                    "no answer within {} s while trying to {what}",
                    policy.attempt_timeout.as_secs_f64()
                ),
                source: None,
            },
        };
        if !error.is_retryable() {
            return Err(error);
        }
        if n >= attempts {
            return Err(gave_up(error, n));
        }
        let wait = policy.backoff(n);
        tracing::warn!(
            target: "cityflow_storage_mongo",
            "{target}: attempt {n} of {attempts} to {what} failed ({error}); retrying in {} ms",
            wait.as_millis()
        );
        tokio::time::sleep(wait).await;
        n += 1;
    }
}

fn gave_up(error: Error, attempts: u32) -> Error {
    match error {
        Error::Unavailable {
            target,
            message,
            source,
        } if attempts > 1 => Error::Unavailable {
            target,
            message: format!("{message} (gave up after {attempts} attempts)"),
            source,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        attempt_timeout: Duration::from_secs(4),
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
    };

    fn unavailable() -> Error {
        Error::Unavailable {
            target: "MongoDB at mongodb://h/".into(),
            message: "network error".into(),
            source: None,
        }
    }

    // The clock is paused: sleeps and timeouts advance virtual time, nothing waits for real.

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_retried_until_success() {
        let calls = AtomicU32::new(0);
        let value = with_retries(&POLICY, "t", "read", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(unavailable()),
                _ => Ok(42),
            }
        })
        .await
        .unwrap();
        assert_eq!(value, 42);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_and_says_so() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let e = with_retries(&POLICY, "t", "read", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(unavailable())
        })
        .await
        .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(e.is_retryable());
        assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
        // Two backoffs, each in [ceiling/2, ceiling]: 200 ms then 400 ms ceilings.
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(100 + 200) && waited <= Duration::from_millis(600),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_that_is_not_retryable_is_returned_at_once() {
        let calls = AtomicU32::new(0);
        let e = with_retries(&POLICY, "t", "write", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(Error::config("MONGODB_URL", "authentication failed"))
        })
        .await
        .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(e.kind(), cityflow_core::ErrorKind::Config);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_applies_to_each_attempt_not_to_all_of_them() {
        // The first attempt hangs: it is cut at 4 s and the second attempt succeeds, which a
        // single deadline around all the retries would not allow.
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let value = with_retries(&POLICY, "t", "read", || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                std::future::pending::<()>().await;
            }
            Ok("answered")
        })
        .await
        .unwrap();
        assert_eq!(value, "answered");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(4_100) && took <= Duration::from_millis(4_200),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn every_attempt_hanging_ends_within_the_worst_case() {
        let started = tokio::time::Instant::now();
        let e = with_retries(&POLICY, "MongoDB at mongodb://h/", "read", || {
            std::future::pending::<Result<()>>()
        })
        .await
        .unwrap_err();
        assert!(started.elapsed() <= POLICY.worst_case());
        assert_eq!(POLICY.worst_case(), Duration::from_millis(12_600));
        let text = e.to_string();
        assert!(text.contains("no answer within 4 s"), "{text}");
        assert!(text.contains("gave up after 3 attempts"), "{text}");
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let p = RetryPolicy {
            max_attempts: 10,
            ..POLICY
        };
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(4), Duration::from_millis(1600));
        assert_eq!(p.backoff_ceiling(5), Duration::from_secs(2));
        assert_eq!(p.backoff_ceiling(40), Duration::from_secs(2));
        for n in 1..10 {
            let b = p.backoff(n);
            assert!(b >= p.backoff_ceiling(n) / 2 && b <= p.backoff_ceiling(n));
        }
    }
}
