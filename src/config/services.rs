//! The settings of the services naskah talks to: where notifications go (webhooks, the SMTP
//! server) and BSrE's signing service, each read from the file, else the environment, with
//! passwords only ever named by the variable that holds them.

use serde::Deserialize;

use super::ConfigError;

/// The `[notify]` table: where notifications of signed letters and finished requests go.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NotifySettings {
    smtp_url: Option<String>,
    /// The environment variable holding the SMTP password.
    smtp_password_env: Option<String>,
    mail_from: Option<String>,
    retry_seconds: Option<u64>,
    #[serde(default)]
    webhooks: Vec<WebhookSettings>,
}

/// One `[[notify.webhooks]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookSettings {
    url: String,
    /// The environment variable holding the secret its calls are signed with.
    secret_env: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    offices: Vec<String>,
}

/// BSrE's signing service, from the `[bsre]` table of the TOML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BsreSettings {
    /// The Esign Client Service's base address.
    pub url: String,
    /// The application's credentials at the service; the password is read from the
    /// environment variable named here, never from the file.
    pub username: String,
    pub password_env: String,
    /// `v1` (multipart) or `v2` (JSON).
    #[serde(default = "default_bsre_api")]
    pub api: String,
    /// The officials (usernames) who sign through the service.
    #[serde(default)]
    pub officials: Vec<String>,
    #[serde(default = "default_bsre_timeout")]
    pub timeout_seconds: u64,
}

fn default_bsre_api() -> String {
    "v1".into()
}

fn default_bsre_timeout() -> u64 {
    30
}

/// Checks the `[bsre]` table and reads the service's password from the environment.
/// The notification settings: `[notify]` in the file, else the environment
/// (`NASKAH_SMTP_URL`, `NASKAH_SMTP_PASSWORD`, `NASKAH_MAIL_FROM`, one webhook by
/// `NASKAH_WEBHOOK_URL` and `NASKAH_WEBHOOK_SECRET`, `NASKAH_NOTIFY_RETRY_SECONDS`).
pub(super) fn notify_settings(
    settings: &NotifySettings,
    file_name: &str,
    env: &impl Fn(&str) -> Option<String>,
    public_url: &str,
) -> Result<crate::notify::worker::Settings, ConfigError> {
    use crate::notify::{mail::Mail, webhook::Webhook};
    let in_file = |key: &str| format!("notify.{key} in {file_name}");
    let pick = |name: &str, key: &str, value: &Option<String>| {
        env(name)
            .map(|v| (v, name.to_owned()))
            .or_else(|| value.clone().map(|v| (v, in_file(key))))
    };
    let retry = match pick(
        "NASKAH_NOTIFY_RETRY_SECONDS",
        "retry_seconds",
        &settings.retry_seconds.map(|s| s.to_string()),
    ) {
        Some((text, origin)) => match text.trim().parse::<u64>() {
            Ok(seconds) if (1..=3600).contains(&seconds) => seconds,
            _ => {
                return Err(ConfigError::new(
                    origin,
                    format!("'{text}' is not a number of seconds in 1..=3600"),
                ));
            }
        },
        None => 30,
    };
    let mail = match pick("NASKAH_SMTP_URL", "smtp_url", &settings.smtp_url) {
        Some((url, origin)) => {
            let password = match &settings.smtp_password_env {
                Some(name) => Some(env(name).ok_or_else(|| {
                    ConfigError::new(
                        in_file("smtp_password_env"),
                        format!("the environment variable {name} is not set"),
                    )
                })?),
                None => env("NASKAH_SMTP_PASSWORD"),
            };
            let (from, from_origin) = pick("NASKAH_MAIL_FROM", "mail_from", &settings.mail_from)
                .ok_or_else(|| {
                    ConfigError::new(
                        "NASKAH_MAIL_FROM",
                        format!("is needed with {origin}: the address e-mails come from"),
                    )
                })?;
            Some(Mail::new(&url, password, &from).map_err(|problem| {
                let origin = if problem.contains("sender") {
                    from_origin
                } else {
                    origin
                };
                ConfigError::new(origin, problem)
            })?)
        }
        None => None,
    };
    let mut webhooks = Vec::new();
    for (i, hook) in settings.webhooks.iter().enumerate() {
        let origin = in_file(&format!("webhooks[{i}]"));
        let secret = env(&hook.secret_env).ok_or_else(|| {
            ConfigError::new(
                &origin,
                format!("the environment variable {} is not set", hook.secret_env),
            )
        })?;
        webhooks.push(
            Webhook::new(
                &hook.url,
                &secret,
                hook.events.clone(),
                hook.offices.clone(),
            )
            .map_err(|problem| ConfigError::new(&origin, problem))?,
        );
    }
    if let Some(url) = env("NASKAH_WEBHOOK_URL") {
        let secret = env("NASKAH_WEBHOOK_SECRET").ok_or_else(|| {
            ConfigError::new(
                "NASKAH_WEBHOOK_SECRET",
                "is needed with NASKAH_WEBHOOK_URL: the secret its calls are signed with",
            )
        })?;
        webhooks.push(
            Webhook::new(&url, &secret, Vec::new(), Vec::new())
                .map_err(|problem| ConfigError::new("NASKAH_WEBHOOK_URL", problem))?,
        );
    }
    Ok(crate::notify::worker::Settings {
        webhooks,
        mail,
        public_url: public_url.to_owned(),
        retry: std::time::Duration::from_secs(retry),
    })
}

pub(super) fn bsre_remote(
    settings: &BsreSettings,
    file_name: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<crate::tte::bsre::Remote, ConfigError> {
    let setting = |key: &str| format!("bsre.{key} in {file_name}");
    let url = settings.url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::new(
            setting("url"),
            format!("'{url}' is not an http(s):// address"),
        ));
    }
    if url.starts_with("https://") {
        return Err(ConfigError::new(
            setting("url"),
            "https is not supported by this build; reach the Esign Client Service on the agency's network over http",
        ));
    }
    let api = match settings.api.trim() {
        "v1" => crate::tte::bsre::Api::V1,
        "v2" => crate::tte::bsre::Api::V2,
        other => {
            return Err(ConfigError::new(
                setting("api"),
                format!("'{other}' is neither v1 nor v2"),
            ));
        }
    };
    let password = env(&settings.password_env).ok_or_else(|| {
        ConfigError::new(
            setting("password_env"),
            format!(
                "the environment variable {} is not set",
                settings.password_env
            ),
        )
    })?;
    if !(1..=600).contains(&settings.timeout_seconds) {
        return Err(ConfigError::new(
            setting("timeout_seconds"),
            "must be 1 to 600",
        ));
    }
    Ok(crate::tte::bsre::Remote {
        url,
        username: settings.username.clone(),
        password,
        api,
        officials: settings.officials.clone(),
        timeout: std::time::Duration::from_secs(settings.timeout_seconds),
    })
}
