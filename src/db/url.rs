//! The database a deployment uses, as its URL says (PostgreSQL or SQLite), shown and logged
//! with its password redacted.

use std::fmt;
use std::path::PathBuf;

/// Where the database lives. The password of a PostgreSQL URL never appears in `Display`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `postgres://` and `postgresql://` URLs, `sqlite://PATH` (`sqlite:///abs/path` for
    /// an absolute one), `sqlite:PATH`, and a plain file path, which means SQLite.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or(text.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("names no SQLite file".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "unknown scheme '{scheme}' (naskah speaks postgres:// and sqlite://)"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Replaces the password in `scheme://user:password@host/...` with `***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted_but_nothing_else() {
        assert_eq!(
            redact_password("postgres://naskah:p@ss@127.0.0.1:5432/db?sslmode=disable"),
            "postgres://naskah:***@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            redact_password("postgres://naskah@h/db"),
            "postgres://naskah@h/db"
        );
    }
}
