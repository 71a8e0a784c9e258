//! Embedded migrations, one folder per backend under `schema/`, run at start and by
//! `naskah migrate`.
//!
//! Several naskah processes may start at once against one empty database. Each runs the
//! migrations inside one transaction that first takes a lock every other process also takes
//! (an advisory lock on PostgreSQL, the write lock on SQLite), so the first applies them and the
//! others, once they get the lock, find nothing left to do.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, DbError, lock_for_transaction, lock_keys, write_transaction};

const POSTGRES: EmbeddedMigrations = embed_migrations!("schema/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("schema/sqlite");

/// Why one transaction of migration work failed: the lock, or a migration itself.
enum Failure {
    Query(diesel::result::Error),
    Migration(String),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Query(error)
    }
}

impl From<Failure> for DbError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Query(error) => DbError::Migration(error.to_string()),
            Failure::Migration(message) => DbError::Migration(message),
        }
    }
}

/// Applies every pending migration; returns the versions it applied (empty when the database
/// was up to date).
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    locked(conn, |conn| {
        let applied = match conn {
            DbConn::Pg(inner) => applied_versions(inner.run_pending_migrations(POSTGRES)),
            DbConn::Sqlite(inner) => applied_versions(inner.run_pending_migrations(SQLITE)),
        }?;
        Ok(applied)
    })
}

/// Reverts every applied migration, newest first; returns the versions it reverted.
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    locked(conn, |conn| {
        let reverted = match conn {
            DbConn::Pg(inner) => applied_versions(inner.revert_all_migrations(POSTGRES)),
            DbConn::Sqlite(inner) => applied_versions(inner.revert_all_migrations(SQLITE)),
        }?;
        Ok(reverted)
    })
}

/// The versions of the migrations this build carries for `conn`'s backend, oldest first.
pub fn known_versions(conn: &DbConn) -> Vec<String> {
    use diesel::migration::MigrationSource;
    fn versions<DB: diesel::backend::Backend>(source: &impl MigrationSource<DB>) -> Vec<String> {
        source
            .migrations()
            .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
            .unwrap_or_default()
    }
    match conn {
        DbConn::Pg(_) => versions::<diesel::pg::Pg>(&POSTGRES),
        DbConn::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&SQLITE),
    }
}

fn locked(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<Vec<String>, Failure>,
) -> Result<Vec<String>, DbError> {
    write_transaction(conn, |conn| {
        lock_for_transaction(conn, lock_keys::MIGRATIONS)?;
        work(conn)
    })
    .map_err(DbError::from)
}

type HarnessResult<T> = diesel::migration::Result<T>;

fn applied_versions(
    result: HarnessResult<Vec<diesel::migration::MigrationVersion<'_>>>,
) -> Result<Vec<String>, Failure> {
    result
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| Failure::Migration(e.to_string()))
}
