//! Webhook calls: the event as JSON, POSTed to a configured URL and signed with HMAC-SHA256
//! under the webhook's secret, so that the receiver can tell that naskah sent it and that
//! nothing changed it on the way.
//!
//! Headers: `X-Naskah-Event`; `X-Naskah-Notification`, the same on every retry, so that a
//! receiver drops what it has already seen; `X-Naskah-Timestamp`, Unix seconds; and
//! `X-Naskah-Signature: sha256=HEX`, the HMAC of `{timestamp}.{body}`. A receiver computes it
//! again, compares in constant time, and refuses a timestamp more than five minutes away
//! from its clock. Only a 2xx answer counts as delivered; redirects are not followed.

use std::fmt;
use std::time::Duration;

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The fewest bytes a secret may have.
pub const MIN_SECRET: usize = 16;

/// A configured receiver of events.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    secret: Vec<u8>,
    /// The events it wants; all when empty.
    pub events: Vec<String>,
    /// The offices (codes) whose events it wants; all when empty.
    pub offices: Vec<String>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("secret", &"…")
            .field("events", &self.events)
            .field("offices", &self.offices)
            .finish()
    }
}

impl Webhook {
    /// A webhook to `url` (`http://` or `https://`) signing with `secret` (at least
    /// [`MIN_SECRET`] bytes), for `events` (of [`super::EVENTS`]) of `offices`.
    pub fn new(
        url: &str,
        secret: &str,
        events: Vec<String>,
        offices: Vec<String>,
    ) -> Result<Webhook, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| format!("'{url}' is not an http:// or https:// address"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("'{url}' names no host"));
        }
        if secret.len() < MIN_SECRET {
            return Err(format!(
                "the secret has {} bytes; at least {MIN_SECRET} are needed",
                secret.len()
            ));
        }
        if let Some(unknown) = events.iter().find(|e| !super::EVENTS.contains(&e.as_str())) {
            return Err(format!(
                "unknown event '{unknown}' (known: {})",
                super::EVENTS.join(", ")
            ));
        }
        Ok(Webhook {
            url: url.to_owned(),
            secret: secret.as_bytes().to_vec(),
            events,
            offices,
        })
    }

    /// Whether it wants `event` of the office `office`.
    pub fn wants(&self, event: &str, office: &str) -> bool {
        (self.events.is_empty() || self.events.iter().any(|e| e == event))
            && (self.offices.is_empty() || self.offices.iter().any(|o| o == office))
    }

    /// Calls the webhook with `body` (the notification's JSON) at Unix time `timestamp`.
    pub fn call(
        &self,
        event: &str,
        notification: i64,
        body: &[u8],
        timestamp: i64,
    ) -> Result<(), String> {
        let signature = signature(&self.secret, timestamp, body).map_err(|e| e.to_string())?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        let response = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("naskah/", env!("CARGO_PKG_VERSION")))
            .header("X-Naskah-Event", event)
            .header("X-Naskah-Notification", notification.to_string())
            .header("X-Naskah-Timestamp", timestamp.to_string())
            .header("X-Naskah-Signature", signature)
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn signature(
    secret: &[u8],
    timestamp: i64,
    body: &[u8],
) -> Result<String, openssl::error::ErrorStack> {
    let key = PKey::hmac(secret)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(timestamp.to_string().as_bytes())?;
    signer.update(b".")?;
    signer.update(body)?;
    Ok(format!(
        "sha256={}",
        crate::digest::hex(&signer.sign_to_vec()?)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // From `printf '1700000000.{}' | openssl dgst -sha256 -hmac key`.
        let got = signature(b"key", 1_700_000_000, b"{}").expect("hmac");
        assert_eq!(
            got,
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn a_webhook_needs_an_http_address_a_long_secret_and_known_events() {
        let secret = "0123456789abcdef";
        assert!(Webhook::new("ftp://x", secret, vec![], vec![]).is_err());
        assert!(Webhook::new("https://", secret, vec![], vec![]).is_err());
        assert!(Webhook::new("https://opd.example/hook", "short", vec![], vec![]).is_err());
        assert!(
            Webhook::new(
                "https://opd.example/hook",
                secret,
                vec!["letter.voided".into()],
                vec![]
            )
            .is_err()
        );
        let hook = Webhook::new(
            "https://opd.example/hook",
            secret,
            vec!["request.finished".into()],
            vec!["banggai".into()],
        )
        .expect("valid");
        assert!(hook.wants("request.finished", "banggai"));
        assert!(!hook.wants("letter.signed", "banggai"));
        assert!(!hook.wants("request.finished", "sumbar"));
        assert!(
            !format!("{hook:?}").contains(secret),
            "the secret stays out of logs"
        );
    }
}
