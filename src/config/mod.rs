//! Configuration: built-in defaults, then an optional TOML file, then environment variables,
//! then command-line flags, each overriding the one before.
//!
//! Every setting is parsed and checked here, before anything starts, so that bad configuration
//! ends with one line naming the setting (by the name it was given under: `NASKAH_BIND`,
//! `--bind`, `bind in naskah.toml`) and what is wrong with it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod services;

pub use crate::db::DatabaseUrl;
pub use crate::schedule::{ReportSigner, ScheduleSettings};
pub use crate::telemetry::LogFormat;
pub use services::BsreSettings;
use services::{NotifySettings, bsre_remote, notify_settings};

/// A setting that could not be used: which one, under the name it was given, and why.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// A value together with the name it was given under, for error messages.
#[derive(Clone, Debug)]
struct Given {
    value: String,
    origin: String,
}

/// The settings a person may put in the TOML file; every key is optional, unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    db_pool_size: Option<u32>,
    verify_workers: Option<u64>,
    verify_memory_mb: Option<u64>,
    verify_seconds: Option<u64>,
    revocation_grace_minutes: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    public_url: Option<String>,
    tte_issuer: Option<String>,
    pki_dir: Option<String>,
    tsa_url: Option<String>,
    signature_level: Option<String>,
    trust_roots: Option<Vec<String>>,
    fetch_revocation: Option<bool>,
    bsre: Option<BsreSettings>,
    schedule: Option<ScheduleSettings>,
    notify: Option<NotifySettings>,
}

/// Settings given on the command line; they win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub bind: Option<String>,
}

/// The checked configuration of one naskah process.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseUrl,
    /// The name the database URL was given under (`NASKAH_DATABASE_URL`, `default`, …).
    pub database_origin: String,
    pub bind: SocketAddr,
    pub bind_origin: String,
    pub data_dir: PathBuf,
    pub data_dir_origin: String,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub db_pool_size: u32,
    /// What reading untrusted PDFs may spend: workers at once, memory each, time per file.
    pub verify: crate::verify::sandbox::Limits,
    /// How far a CRL's or OCSP response's times may be off and still speak for the time a
    /// signature is judged at (clocks disagree).
    pub revocation_grace: chrono::Duration,
    /// The reverse proxies whose `X-Forwarded-For` names the client (per-address limits, the
    /// log); none: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The address people reach naskah at; the QR code of a signed letter opens
    /// `{public_url}/verifikasi/{letter}`.
    pub public_url: String,
    /// The certificate issuer named in the footer of electronically signed letters.
    pub tte_issuer: String,
    /// The officials' PKCS#12 files (`officials/USERNAME.p12`) and the CRLs to embed.
    pub pki_dir: PathBuf,
    /// The RFC 3161 time-stamp authority; the demo runs one on loopback when none is set.
    pub tsa_url: Option<String>,
    /// The PAdES level of signatures made in the workflow; by default B-LT when a time-stamp
    /// authority is at hand, else B-B.
    pub signature_level: Option<crate::signing::Level>,
    /// BSrE's signing service, with its password read from the environment.
    pub bsre: Option<crate::tte::bsre::Remote>,
    /// PEM files of the roots verification trusts; none: the PKI directory's `root.pem`.
    pub trust_roots: Vec<PathBuf>,
    /// Whether verification fetches revocation a document does not carry.
    pub fetch_revocation: bool,
    /// When reports are made and the audit log checked, and who signs.
    pub schedule: crate::schedule::Schedule,
    /// Where notifications go: webhooks, the SMTP server.
    pub notify: crate::notify::worker::Settings,
}

/// IP addresses, each checked; an error names the setting and the address.
fn addresses<'a>(
    origin: &str,
    given: impl Iterator<Item = &'a str>,
) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    given
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse()
                .map_err(|_| ConfigError::new(origin, format!("'{a}' is not an IP address")))
        })
        .collect()
}

/// A whole number setting from the environment, else the file, else its default, within
/// `range`; an error names where it was given.
fn whole_number(
    given: Option<Given>,
    key: &str,
    file_value: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let (value, origin) = match given {
        Some(given) => (
            given.value.trim().parse::<u64>().map_err(|_| {
                ConfigError::new(
                    &given.origin,
                    format!("'{}' is not a whole number", given.value),
                )
            })?,
            given.origin,
        ),
        None => (file_value.unwrap_or(default), key.to_owned()),
    };
    if !range.contains(&value) {
        return Err(ConfigError::new(
            origin,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_LOG: &str = "info";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_TTE_ISSUER: &str =
    "Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        Config::from_sources(overrides, |name| std::env::var(name).ok())
    }

    /// Reads the configuration with `env` standing in for the environment (tests pass a map).
    pub fn from_sources(
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let from_env = |name: &str| {
            env(name).map(|value| Given {
                value,
                origin: name.to_owned(),
            })
        };

        let file_path = overrides
            .config_file
            .as_ref()
            .map(|path| (path.clone(), "--config".to_owned()))
            .or_else(|| env("NASKAH_CONFIG").map(|p| (PathBuf::from(p), "NASKAH_CONFIG".into())));
        let (file, file_name) = match &file_path {
            Some((path, origin)) => (read_file(path, origin)?, path.display().to_string()),
            None => (FileSettings::default(), String::new()),
        };
        let from_file = |key: &str, value: &Option<String>| {
            value.as_ref().map(|value| Given {
                value: value.clone(),
                origin: format!("{key} in {file_name}"),
            })
        };
        let default = |value: &str| Given {
            value: value.to_owned(),
            origin: "default".to_owned(),
        };

        let data_dir = from_env("NASKAH_DATA_DIR")
            .or_else(|| from_file("data_dir", &file.data_dir))
            .unwrap_or_else(|| default(DEFAULT_DATA_DIR));
        if data_dir.value.trim().is_empty() {
            return Err(ConfigError::new(data_dir.origin, "is empty"));
        }
        let data_dir_path = PathBuf::from(&data_dir.value);

        let database = from_env("NASKAH_DATABASE_URL")
            .or_else(|| from_env("DATABASE_URL"))
            .or_else(|| from_file("database_url", &file.database_url))
            .unwrap_or_else(|| Given {
                value: format!(
                    "sqlite://{}",
                    data_dir_path.join("naskah.sqlite3").display()
                ),
                origin: "default database (under the data directory)".to_owned(),
            });
        let database_url = DatabaseUrl::parse(&database.value)
            .map_err(|problem| ConfigError::new(&database.origin, problem))?;

        let bind = overrides
            .bind
            .clone()
            .map(|value| Given {
                value,
                origin: "--bind".to_owned(),
            })
            .or_else(|| from_env("NASKAH_BIND"))
            .or_else(|| from_file("bind", &file.bind))
            .unwrap_or_else(|| default(DEFAULT_BIND));
        let bind_addr = parse_bind(&bind.value).map_err(|p| ConfigError::new(&bind.origin, p))?;

        let log = from_env("NASKAH_LOG")
            .or_else(|| from_file("log", &file.log))
            .unwrap_or_else(|| default(DEFAULT_LOG));
        tracing_subscriber::EnvFilter::try_new(&log.value).map_err(|e| {
            ConfigError::new(
                &log.origin,
                format!("is not a log filter ('{}'): {e}", log.value),
            )
        })?;

        let log_format = from_env("NASKAH_LOG_FORMAT")
            .or_else(|| from_file("log_format", &file.log_format))
            .unwrap_or_else(|| default("text"));
        let log_format_value = match log_format.value.trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    log_format.origin,
                    format!("'{other}' is neither text nor json"),
                ));
            }
        };

        let whole = |name: &str, key: &str, file_value: Option<u64>, default: u64, range| {
            whole_number(from_env(name), key, file_value, default, range)
        };
        let pool_size = whole(
            "NASKAH_DB_POOL_SIZE",
            "db_pool_size",
            file.db_pool_size.map(u64::from),
            8,
            1..=256,
        )? as u32;
        let defaults = crate::verify::sandbox::Limits::default();
        let verify = crate::verify::sandbox::Limits {
            workers: whole(
                "NASKAH_VERIFY_WORKERS",
                "verify_workers",
                file.verify_workers,
                defaults.workers as u64,
                1..=64,
            )? as usize,
            memory: whole(
                "NASKAH_VERIFY_MEMORY_MB",
                "verify_memory_mb",
                file.verify_memory_mb,
                defaults.memory >> 20,
                64..=65_536,
            )? << 20,
            time: std::time::Duration::from_secs(whole(
                "NASKAH_VERIFY_SECONDS",
                "verify_seconds",
                file.verify_seconds,
                defaults.time.as_secs(),
                1..=600,
            )?),
        };
        let revocation_grace = chrono::Duration::minutes(whole(
            "NASKAH_REVOCATION_GRACE_MINUTES",
            "revocation_grace_minutes",
            file.revocation_grace_minutes,
            crate::verify::trust::REVOCATION_GRACE.num_minutes() as u64,
            0..=1_440,
        )? as i64);

        let trusted_proxies = match env("NASKAH_TRUSTED_PROXIES") {
            Some(text) => addresses("NASKAH_TRUSTED_PROXIES", text.split(','))?,
            None => addresses(
                &format!("trusted_proxies in {file_name}"),
                file.trusted_proxies.iter().flatten().map(String::as_str),
            )?,
        };
        let public_url = from_env("NASKAH_PUBLIC_URL")
            .or_else(|| from_file("public_url", &file.public_url))
            .unwrap_or_else(|| default(DEFAULT_PUBLIC_URL));
        let public_url_value = public_url.value.trim().trim_end_matches('/').to_owned();
        if !(public_url_value.starts_with("https://") || public_url_value.starts_with("http://"))
            || public_url_value.contains(char::is_whitespace)
        {
            return Err(ConfigError::new(
                public_url.origin,
                format!(
                    "'{}' is not an http:// or https:// address",
                    public_url.value
                ),
            ));
        }
        let tte_issuer = from_env("NASKAH_TTE_ISSUER")
            .or_else(|| from_file("tte_issuer", &file.tte_issuer))
            .unwrap_or_else(|| default(DEFAULT_TTE_ISSUER));
        if tte_issuer.value.trim().is_empty() {
            return Err(ConfigError::new(tte_issuer.origin, "is empty"));
        }

        let pki_dir = from_env("NASKAH_PKI_DIR")
            .or_else(|| from_file("pki_dir", &file.pki_dir))
            .map(|given| PathBuf::from(given.value))
            .unwrap_or_else(|| data_dir_path.join("pki"));
        let tsa_url =
            match from_env("NASKAH_TSA_URL").or_else(|| from_file("tsa_url", &file.tsa_url)) {
                Some(given) => {
                    let url = given.value.trim().to_owned();
                    if !url.starts_with("http://") {
                        return Err(ConfigError::new(
                            given.origin,
                            format!("'{url}' is not an http:// address"),
                        ));
                    }
                    Some(url)
                }
                None => None,
            };
        let signature_level = match from_env("NASKAH_SIGNATURE_LEVEL")
            .or_else(|| from_file("signature_level", &file.signature_level))
        {
            Some(given) => Some(
                given
                    .value
                    .trim()
                    .parse::<crate::signing::Level>()
                    .map_err(|p| ConfigError::new(&given.origin, p))?,
            ),
            None => None,
        };
        let trust_roots: Vec<PathBuf> = match env("NASKAH_TRUST_ROOTS") {
            Some(list) => list
                .split(':')
                .filter(|p| !p.trim().is_empty())
                .map(PathBuf::from)
                .collect(),
            None => file
                .trust_roots
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        };
        let fetch_revocation = match env("NASKAH_FETCH_REVOCATION") {
            Some(text) => match text.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" | "" => false,
                other => {
                    return Err(ConfigError::new(
                        "NASKAH_FETCH_REVOCATION",
                        format!("'{other}' is not true or false"),
                    ));
                }
            },
            None => file.fetch_revocation.unwrap_or(false),
        };
        let schedule = crate::schedule::Schedule::from_settings(
            file.schedule.clone().unwrap_or_default(),
            |name| env(name),
        )
        .map_err(|(origin, problem)| {
            ConfigError::new(
                if origin.starts_with("NASKAH_") {
                    origin
                } else {
                    format!("{file_name}: schedule.{origin}")
                },
                problem,
            )
        })?;
        let bsre = match &file.bsre {
            Some(settings) => Some(bsre_remote(settings, &file_name, &env)?),
            None => None,
        };

        let notify = notify_settings(
            &file.notify.clone().unwrap_or_default(),
            &file_name,
            &env,
            &public_url_value,
        )?;

        Ok(Config {
            database: database_url,
            database_origin: database.origin,
            bind: bind_addr,
            bind_origin: bind.origin,
            data_dir: data_dir_path,
            data_dir_origin: data_dir.origin,
            log_filter: log.value,
            log_format: log_format_value,
            db_pool_size: pool_size,
            verify,
            revocation_grace,
            trusted_proxies,
            public_url: public_url_value,
            tte_issuer: tte_issuer.value.trim().to_owned(),
            pki_dir,
            tsa_url,
            signature_level,
            bsre,
            trust_roots,
            fetch_revocation,
            schedule,
            notify,
        })
    }

    /// The level of workflow signatures, given whether a time-stamp authority is at hand.
    pub fn level(&self, with_tsa: bool) -> crate::signing::Level {
        self.signature_level.unwrap_or(if with_tsa {
            crate::signing::Level::BLT
        } else {
            crate::signing::Level::BB
        })
    }

    /// Creates the data directory when it is missing and proves that naskah can write to it,
    /// and does the same for the directory of a SQLite database file.
    pub fn prepare_directories(&self) -> Result<(), ConfigError> {
        ensure_writable_dir(&self.data_dir)
            .map_err(|problem| ConfigError::new(&self.data_dir_origin, problem))?;
        if let DatabaseUrl::Sqlite(path) = &self.database {
            let dir = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            ensure_writable_dir(dir).map_err(|problem| {
                ConfigError::new(&self.database_origin, format!("SQLite file {problem}"))
            })?;
        }
        Ok(())
    }
}

fn read_file(path: &Path, origin: &str) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(origin, format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let position = e
            .span()
            .map(|span| {
                let (line, column) = line_and_column(&text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        ConfigError::new(
            origin,
            format!(
                "{} is malformed{position}: {}",
                path.display(),
                e.message().trim()
            ),
        )
    })
}

/// One-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse::<SocketAddr>().map_err(|_| {
        format!("'{text}' is not an address and port such as 127.0.0.1:8080 or [::1]:8080")
    })
}

fn ensure_writable_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{shown} is not a directory"));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create directory {shown}: {e}"))?;
    let probe = dir.join(format!(".naskah-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"probe")
        .map_err(|e| format!("directory {shown} is not writable: {e}"))?;
    std::fs::remove_file(&probe).map_err(|e| format!("directory {shown} is not writable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)], overrides: Overrides) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(&overrides, |name| env.get(name).cloned())
    }

    #[test]
    fn defaults_are_sqlite_under_data_and_port_8080() -> Result<(), ConfigError> {
        let config = load(&[], Overrides::default())?;
        assert_eq!(
            config.bind,
            "127.0.0.1:8080"
                .parse()
                .map_err(|_| ConfigError::new("", ""))?
        );
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite(PathBuf::from("data").join("naskah.sqlite3"))
        );
        assert_eq!(config.log_format, LogFormat::Text);
        Ok(())
    }

    #[test]
    fn naskah_database_url_wins_over_database_url() -> Result<(), ConfigError> {
        let config = load(
            &[
                ("DATABASE_URL", "sqlite://other.db"),
                ("NASKAH_DATABASE_URL", "postgres://u:secret@db/naskah"),
            ],
            Overrides::default(),
        )?;
        assert_eq!(config.database_origin, "NASKAH_DATABASE_URL");
        assert_eq!(config.database.to_string(), "postgres://u:***@db/naskah");
        Ok(())
    }

    #[test]
    fn flag_wins_over_environment() -> Result<(), ConfigError> {
        let overrides = Overrides {
            bind: Some("127.0.0.1:0".into()),
            ..Overrides::default()
        };
        let config = load(&[("NASKAH_BIND", "0.0.0.0:9000")], overrides)?;
        assert_eq!(config.bind.port(), 0);
        Ok(())
    }

    #[test]
    fn errors_name_the_setting() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "NASKAH_DATABASE_URL",
                "mysql://root@localhost/x",
                "unknown scheme 'mysql'",
            ),
            ("NASKAH_BIND", "localhost", "is not an address and port"),
            ("NASKAH_LOG_FORMAT", "xml", "neither text nor json"),
            ("NASKAH_DB_POOL_SIZE", "many", "not a whole number"),
        ];
        for (name, value, expected) in cases {
            let error = load(&[(name, value)], Overrides::default())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.starts_with(&format!("{name}: ")), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn sqlite_url_forms() {
        let cases = [
            (
                "sqlite:///var/lib/naskah/db.sqlite3",
                "/var/lib/naskah/db.sqlite3",
            ),
            ("sqlite://data/x.db", "data/x.db"),
            ("sqlite:x.db", "x.db"),
            ("x.db", "x.db"),
        ];
        for (text, path) in cases {
            assert_eq!(
                DatabaseUrl::parse(text),
                Ok(DatabaseUrl::Sqlite(path.into()))
            );
        }
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_and_column("a = 1\nbind = ?", 13), (2, 8));
    }
}
