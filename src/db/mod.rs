//! The database: one code base for SQLite (the embedded default) and PostgreSQL.
//!
//! Queries are written once against [`DbConn`], diesel's multi-backend connection. The few
//! statements that really differ between the backends (how a write transaction begins, how
//! concurrent processes are serialised) live here and in [`migrate`], nowhere else.
//!
//! Database work is blocking; async code reaches it through [`Db::run`], which moves it to the
//! blocking thread pool so that it never stalls the web workers.

pub mod migrate;
pub mod schema;
mod url;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

pub use url::DatabaseUrl;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached at all: a configuration problem.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Opens connections of the configured backend; SQLite connections get their settings here.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

/// How long a connection attempt to PostgreSQL may take before it counts as unreachable.
const PG_CONNECT_TIMEOUT_SECONDS: u32 = 10;

/// SQLite settings for every connection. WAL lets readers run beside the one writer;
/// `synchronous = FULL` makes every commit durable before it is acknowledged, because a letter
/// number that was reported issued must survive a power cut; the busy timeout makes concurrent
/// writers queue instead of failing.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Manager { url }
    }

    fn establish(&self) -> Result<DbConn, DbError> {
        let fail = |reason: String| DbError::Connect {
            url: self.url.to_string(),
            reason: one_line(&reason),
        };
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let url = with_connect_timeout(url);
                PgConnection::establish(&url)
                    .map(DbConn::Pg)
                    .map_err(|e| fail(e.to_string()))
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path
                    .to_str()
                    .ok_or_else(|| fail("path is not UTF-8".into()))?;
                let mut conn =
                    SqliteConnection::establish(path).map_err(|e| fail(e.to_string()))?;
                sqlite_setup(&mut conn).map_err(|e| fail(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Applies [`SQLITE_SETUP`]. Switching a new database to WAL needs a lock that SQLite does not
/// wait for with the busy handler, so a process that starts beside another retries for a while.
fn sqlite_setup(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match conn.batch_execute(SQLITE_SETUP) {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("locked") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(25));
            }
            outcome => return outcome,
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.ping().map_err(DbError::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Adds `connect_timeout` to a PostgreSQL URL that has none, so that an unreachable server is
/// reported within seconds instead of after the operating system's TCP time-out.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={PG_CONNECT_TIMEOUT_SECONDS}")
}

/// Driver messages span lines (libpq adds hints on a second line); errors here are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The process's handle on the database: a pool of connections of one backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
}

impl Db {
    /// Connects once, so that an unreachable or unusable database is reported at once with the
    /// driver's reason, then builds the pool around that connection.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> Result<Db, DbError> {
        let manager = Manager::new(url.clone());
        let first = manager.establish()?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            // No idle connections kept ready: the pool then opens connections only while a
            // caller waits for one, never in the background. A connection being opened (TLS to
            // PostgreSQL) while the process exits crashed it in OpenSSL's exit handlers, a
            // quarter of the time for short commands (`exits_cleanly_after_short_commands`).
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Db { pool })
    }

    pub fn get(&self) -> Result<PooledConn, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Runs blocking database work on the blocking thread pool with a pooled connection.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            work(&mut conn)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(join_error) => Err(E::from(DbError::Pool(format!(
                "database task ended abnormally: {join_error}"
            )))),
        }
    }
}

/// Runs `work` in a write transaction: committed when it returns `Ok`, rolled back otherwise.
///
/// On SQLite the transaction begins with `BEGIN IMMEDIATE`, taking the write lock before the
/// first read, so that two writers queue on the busy timeout instead of one failing with
/// `SQLITE_BUSY` when it upgrades a read snapshot that has gone stale. Inside a transaction
/// already begun, `work` runs in a savepoint of it, on both backends.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth = match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()
        }
        DbConn::Pg(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()
        }
    }?;
    if depth.is_some() {
        return conn.transaction(work);
    }
    match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConn::Pg(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    let outcome = work(conn);
    let finish = match (&outcome, &mut *conn) {
        (Ok(_), DbConn::Sqlite(inner)) => AnsiTransactionManager::commit_transaction(inner),
        (Ok(_), DbConn::Pg(inner)) => AnsiTransactionManager::commit_transaction(inner),
        (Err(_), DbConn::Sqlite(inner)) => AnsiTransactionManager::rollback_transaction(inner),
        (Err(_), DbConn::Pg(inner)) => AnsiTransactionManager::rollback_transaction(inner),
    };
    match (outcome, finish) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(commit_error)) => Err(commit_error.into()),
        // The error that made us roll back is the one worth reporting.
        (Err(error), _) => Err(error),
    }
}

/// Serialises the callers of one `key` across processes until the current transaction ends.
/// On SQLite the write transaction's lock already does this; on PostgreSQL it is an advisory
/// transaction lock.
pub fn lock_for_transaction(conn: &mut DbConn, key: i64) -> Result<(), diesel::result::Error> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(inner) => inner.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})")),
    }
}

/// Keys of the advisory locks naskah takes; one place, so that no two uses collide.
pub mod lock_keys {
    /// Running migrations.
    pub const MIGRATIONS: i64 = 0x6e61_736b_0001;
    /// Appending to one of the audit log's chains: this plus the chain (0, or an office's
    /// id), a range of its own far above the constants here.
    const AUDIT_CHAINS: i64 = 0x6e62_0000_0000_0000;

    /// The lock of audit chain `chain`.
    pub fn audit_chain(chain: i64) -> i64 {
        AUDIT_CHAINS + (chain & 0x0000_ffff_ffff_ffff)
    }
}

/// The current time as the database stores it: UTC, to the microsecond (PostgreSQL keeps no
/// more), so that a value reads back exactly as it was hashed.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.naive_utc())
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://h/db"),
            "postgres://h/db?connect_timeout=10"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable"),
            "postgres://h/db?sslmode=disable&connect_timeout=10"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=3"),
            "postgres://h/db?connect_timeout=3"
        );
    }

    #[test]
    fn driver_messages_become_one_line() {
        assert_eq!(
            one_line("connection refused\n\tIs the server running?\n"),
            "connection refused Is the server running?"
        );
    }
}
