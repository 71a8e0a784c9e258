//! E-mail through the configured SMTP server (lettre): plain-text messages in Indonesian.
//!
//! The server is named by a URL: `smtp://[user@]host[:port]` upgrades with STARTTLS and
//! refuses to go on without it (port 587 by default), `smtps://…` speaks TLS from the start
//! (465), and `smtp+insecure://…` sends in the clear (25), for a relay on the same machine.
//! The password never sits in the URL: it comes from the environment.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

/// How long one message may take to hand over.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    StartTls,
    Tls,
    Clear,
}

/// A configured SMTP server and the sender naskah writes as.
#[derive(Clone)]
pub struct Mail {
    host: String,
    port: u16,
    security: Security,
    username: Option<String>,
    password: Option<String>,
    from: Mailbox,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mail {
    /// The server of `url`, signing in with the URL's user and `password` when a user is
    /// given, sending as `from` (`naskah <naskah@diskominfo.example.go.id>` or an address).
    pub fn new(url: &str, password: Option<String>, from: &str) -> Result<Mail, String> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("'{url}' is not an smtp:// URL"))?;
        let (security, default_port) = match scheme {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            "smtp+insecure" => (Security::Clear, 25),
            other => {
                return Err(format!(
                    "unknown scheme '{other}' (smtp://, smtps:// or smtp+insecure://)"
                ));
            }
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '?', '#']) {
            return Err("the URL takes a server only, without a path or options".into());
        }
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, authority),
        };
        if user.is_some_and(|u| u.contains(':')) {
            return Err(
                "holds a password: give it in the environment (NASKAH_SMTP_PASSWORD) instead"
                    .into(),
            );
        }
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("'{port}' is not a port"))?,
            ),
            None => (host_port, default_port),
        };
        if host.is_empty() {
            return Err("names no server".into());
        }
        if user.is_some() && password.is_none() {
            return Err("names a user but no password was given (NASKAH_SMTP_PASSWORD)".into());
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("the sender '{from}' is not an address: {e}"))?;
        Ok(Mail {
            host: host.to_owned(),
            port,
            security,
            username: user.map(str::to_owned),
            password,
            from,
        })
    }

    /// Sends `body` to `to` under `subject`.
    pub fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("'{to}' is not an address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        let tls = || TlsParameters::new(self.host.clone()).map_err(|e| e.to_string());
        let mut builder = SmtpTransport::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(TIMEOUT));
        builder = match self.security {
            Security::StartTls => builder.tls(Tls::Required(tls()?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
            Security::Clear => builder.tls(Tls::None),
        };
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder
            .build()
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_server_security_and_user_but_never_a_password() {
        let from = "naskah <naskah@diskominfo.example.go.id>";
        let mail = Mail::new("smtp://relay.example.go.id", None, from).expect("valid");
        assert_eq!(
            (mail.host.as_str(), mail.port, mail.security),
            ("relay.example.go.id", 587, Security::StartTls)
        );
        let mail = Mail::new(
            "smtps://naskah@relay.example.go.id:2465",
            Some("rahasia".into()),
            from,
        )
        .expect("valid");
        assert_eq!((mail.port, mail.security), (2465, Security::Tls));
        assert!(!format!("{mail:?}").contains("rahasia"));
        let mail = Mail::new("smtp+insecure://127.0.0.1:2525", None, from).expect("valid");
        assert_eq!(mail.security, Security::Clear);

        for (url, problem) in [
            ("smtp://naskah:rahasia@relay", "password"),
            ("smtp://naskah@relay", "no password"),
            ("http://relay", "scheme"),
            ("smtp://relay:port", "port"),
            ("smtp://", "no server"),
            ("smtp://relay/path", "path"),
        ] {
            let error = Mail::new(url, None, from).expect_err(url);
            assert!(error.contains(problem), "{url}: {error}");
        }
        let error = Mail::new("smtp://relay", None, "bukan alamat").expect_err("from");
        assert!(error.contains("sender"), "{error}");
    }
}
