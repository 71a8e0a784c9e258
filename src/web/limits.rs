//! Per-address limits on what anyone may call without signing in: uploads to the public
//! verification (each one costs a worker's budget) and the public pages (the front page, the
//! sign-in form, the verification pages, the OpenAPI document). One GCRA bucket per client
//! address and kind (governor); a caller past its bucket is answered 429 with `Retry-After`
//! before any handler runs. Failed sign-ins are counted apart, in the database, per address
//! and per account (`crate::attempts`), so that they hold across instances.
//!
//! The client's address is the peer's, unless the peer is one of the configured trusted
//! proxies: then it is the last address of `X-Forwarded-For` that is not a trusted proxy (what
//! the nearest proxy saw), so that a client cannot choose its own address by sending the
//! header itself.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::error::ApiError;

/// Verification uploads from one address: 30 at once, then one every two seconds.
const UPLOADS: (u32, u32) = (30, 30);
/// Public pages from one address: 240 at once, then four a second.
const PAGES: (u32, u32) = (240, 240);
/// How often the buckets of addresses that went quiet are dropped (in checks).
const SWEEP_EVERY: usize = 4096;

/// The limits of one instance.
pub struct Limits {
    uploads: DefaultKeyedRateLimiter<IpAddr>,
    pages: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trusted_proxies: Vec<IpAddr>,
    checks: AtomicUsize,
}

/// What a request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Upload,
    Page,
}

fn quota((burst, per_minute): (u32, u32)) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub fn new(trusted_proxies: Vec<IpAddr>) -> Limits {
        Limits {
            uploads: RateLimiter::keyed(quota(UPLOADS)),
            pages: RateLimiter::keyed(quota(PAGES)),
            clock: DefaultClock::default(),
            trusted_proxies,
            checks: AtomicUsize::new(0),
        }
    }

    /// The address the request came from (see the module's note on proxies).
    pub fn client(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.trusted_proxies.contains(a))
                .unwrap_or(peer),
        )
    }

    /// Seconds to wait when `address` has used up its bucket for `kind`.
    fn check(&self, kind: Kind, address: IpAddr) -> Result<(), u64> {
        let bucket = match kind {
            Kind::Upload => &self.uploads,
            Kind::Page => &self.pages,
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for bucket in [&self.uploads, &self.pages] {
                bucket.retain_recent();
                bucket.shrink_to_fit();
            }
        }
        bucket.check_key(&address).map_err(|not_until| {
            not_until
                .wait_time_from(self.clock.now())
                .as_secs()
                .saturating_add(1)
        })
    }
}

/// What the request to `path` costs, when it is one anyone may make.
fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    let public_page = path == "/"
        || path == "/masuk"
        || path == "/verifikasi"
        || path.starts_with("/verifikasi/")
        || path
            .strip_prefix("/api/v1/verify")
            .is_some_and(|id| id.starts_with('/'))
        || path == "/api/v1/openapi.json";
    match *method {
        Method::POST if path == "/api/v1/verify" || path == "/verifikasi" => Some(Kind::Upload),
        Method::POST | Method::GET if public_page => Some(Kind::Page),
        _ => None,
    }
}

/// The middleware: refuses a public request past its address's bucket.
pub async fn limit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let kind = kind_of(request.method(), request.path());
    let limits = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.limits.clone());
    if let (Some(kind), Some(limits)) = (kind, limits)
        && let Some(address) = limits.client(request.request())
        && let Err(seconds) = limits.check(kind, address)
    {
        tracing::warn!(%address, ?kind, "rate limited");
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("terlalu banyak permintaan dari alamat ini; coba lagi dalam {seconds} detik"),
        )
        .retry_after(seconds);
        let response = if request.path().starts_with("/api/") {
            error.error_response()
        } else {
            super::pages::refusal_page(&error)
        };
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_and_public_pages_are_limited_and_nothing_else() {
        assert_eq!(kind_of(&Method::POST, "/api/v1/verify"), Some(Kind::Upload));
        assert_eq!(kind_of(&Method::POST, "/verifikasi"), Some(Kind::Upload));
        assert_eq!(kind_of(&Method::GET, "/verifikasi/abc"), Some(Kind::Page));
        assert_eq!(kind_of(&Method::POST, "/masuk"), Some(Kind::Page));
        assert_eq!(kind_of(&Method::GET, "/beranda"), None);
        assert_eq!(kind_of(&Method::GET, "/healthz"), None);
        assert_eq!(kind_of(&Method::POST, "/api/v1/signing-jobs"), None);
    }

    #[test]
    fn an_address_past_its_bucket_waits_and_another_does_not() {
        let limits = Limits::new(Vec::new());
        let (one, two): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        for _ in 0..UPLOADS.0 {
            assert_eq!(limits.check(Kind::Upload, one), Ok(()));
        }
        assert!(
            limits
                .check(Kind::Upload, one)
                .is_err_and(|s| (1..=3).contains(&s))
        );
        assert_eq!(limits.check(Kind::Upload, two), Ok(()));
        assert_eq!(limits.check(Kind::Page, one), Ok(()));
    }
}
