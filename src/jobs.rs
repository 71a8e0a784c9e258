//! Work that takes a while, done in the background for one person (signing many letters at
//! once), and its progress as the page and the API show it.
//!
//! A job is written before its work starts and after each item, so the progress survives the
//! page being closed; a job whose process died stops moving and is shown as stopped once it
//! has not moved for [`STALE_MINUTES`] (what it finished stays finished: each item is its own
//! transaction).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::db::schema::jobs;
use crate::ids::PersonId;

/// A job that has not moved for this long while "running" is taken as stopped.
pub const STALE_MINUTES: i64 = 10;

/// Signing many letters at once.
pub const SIGN_LETTERS: &str = "sign_letters";
/// An office's archive written to a ZIP (letters, revisions, manifest) to download.
pub const EXPORT: &str = "export";
/// A report made by hand: computed, written, numbered and signed.
pub const REPORT: &str = "report";

/// One item's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// The letter, for a signing job.
    pub letter: Option<i64>,
    /// What it is, in words: "Surat Rekomendasi 500.12/7/DKIP/2026".
    pub name: String,
    pub ok: bool,
    /// Why it failed, in Indonesian.
    pub message: Option<String>,
}

/// A job as its owner sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub total: i32,
    pub done: i32,
    pub failed: i32,
    /// `running`, `finished`, or `stopped` (by a refusal that ends it, or a process that
    /// died).
    pub status: String,
    pub message: Option<String>,
    pub outcomes: Vec<Outcome>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl Job {
    /// The share done, 0 to 100.
    pub fn percent(&self) -> i32 {
        if self.total == 0 {
            100
        } else {
            (self.done + self.failed) * 100 / self.total
        }
    }
}

/// How a job's work ended: finished, or stopped with why (for its owner, in Indonesian).
pub type Ended = std::result::Result<(), String>;

/// Runs `work` for `job` in a thread of its own and ends the job with what it returns; a
/// failure of the database while it runs is logged and ends the job as stopped.
pub fn run_in_background(
    db: crate::db::Db,
    job: i64,
    work: impl FnOnce(&crate::db::Db) -> std::result::Result<Ended, crate::db::DbError> + Send + 'static,
) -> std::result::Result<(), crate::db::DbError> {
    let spawned = std::thread::Builder::new()
        .name(format!("job-{job}"))
        .spawn({
            let db = db.clone();
            move || {
                let ended = work(&db).unwrap_or_else(|error| {
                    tracing::error!(job, %error, "job failed");
                    Err("terjadi kesalahan pada server; pekerjaan dihentikan".into())
                });
                if let Err(why) = &ended {
                    tracing::warn!(job, %why, "job stopped");
                }
                let closed = db.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                    end(&mut conn, job, ended.err().as_deref(), crate::db::now())
                        .map_err(|e| e.to_string())
                });
                if let Err(error) = closed {
                    tracing::error!(job, %error, "job not ended");
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(job, %error, "job not started");
        end(
            &mut *db.get()?,
            job,
            Some("pekerjaan tidak dapat dimulai"),
            crate::db::now(),
        )?;
    }
    Ok(())
}

/// This naskah process, as jobs and report runs name it: host and process id.
pub fn instance_name() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "naskah".to_owned())
}

/// Ends the running jobs of processes of this host that are gone (a stop, a crash), so that
/// they hold nobody's next job back; run when `serve` starts. Jobs of other hosts end when
/// they have not moved for [`STALE_MINUTES`]. How many were ended.
pub fn release_orphans(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let prefix = format!("{}:", host_name());
    let running: Vec<(i64, Option<String>)> = jobs::table
        .filter(jobs::status.eq("running"))
        .select((jobs::id, jobs::instance))
        .load(conn)?;
    let mut released = 0;
    for (job, instance) in running {
        let Some(pid) = instance
            .as_deref()
            .and_then(|i| i.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        // A process that just started has no jobs yet: one with its own id was an earlier's.
        let gone =
            pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists();
        if gone {
            end(conn, job, Some(STOPPED), now)?;
            released += 1;
        }
    }
    Ok(released)
}

/// What a job whose process stopped says.
const STOPPED: &str = "pekerjaan terhenti karena server dimulai ulang; surat yang belum \
                       ditandatangani dapat ditandatangani lagi";

/// Starts a job of `kind` with `total` items for `person`.
pub fn start(
    conn: &mut DbConn,
    person: PersonId,
    kind: &str,
    total: usize,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(jobs::table)
        .values((
            jobs::person_id.eq(person),
            jobs::kind.eq(kind),
            jobs::total.eq(i32::try_from(total).unwrap_or(i32::MAX)),
            jobs::status.eq("running"),
            jobs::outcomes.eq("[]"),
            jobs::created_at.eq(now),
            jobs::updated_at.eq(now),
            jobs::instance.eq(instance_name()),
        ))
        .returning(jobs::id)
        .get_result(conn)
}

/// Records one item's outcome.
pub fn record(
    conn: &mut DbConn,
    job: i64,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        let text: String = jobs::table.find(job).select(jobs::outcomes).first(conn)?;
        let mut outcomes: Vec<Outcome> = serde_json::from_str(&text).unwrap_or_default();
        outcomes.push(outcome.clone());
        let text = serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into());
        let row = jobs::table.find(job);
        if outcome.ok {
            diesel::update(row)
                .set((
                    jobs::done.eq(jobs::done + 1),
                    jobs::outcomes.eq(text),
                    jobs::updated_at.eq(now),
                ))
                .execute(conn)?;
        } else {
            diesel::update(row)
                .set((
                    jobs::failed.eq(jobs::failed + 1),
                    jobs::outcomes.eq(text),
                    jobs::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Sets how many of its items are done, for a job whose items are too many to list (an
/// export's letters).
pub fn advance(conn: &mut DbConn, job: i64, done: usize, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(job))
        .set((
            jobs::done.eq(i32::try_from(done).unwrap_or(i32::MAX)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Sets the job's total once it is known.
pub fn set_total(conn: &mut DbConn, job: i64, total: usize) -> QueryResult<()> {
    diesel::update(jobs::table.find(job))
        .set(jobs::total.eq(i32::try_from(total).unwrap_or(i32::MAX)))
        .execute(conn)
        .map(|_| ())
}

/// Ends the job: `finished`, or `stopped` with why.
pub fn end(
    conn: &mut DbConn,
    job: i64,
    stopped: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(jobs::table.find(job))
        .set((
            jobs::status.eq(if stopped.is_some() {
                "stopped"
            } else {
                "finished"
            }),
            jobs::message.eq(stopped),
            jobs::updated_at.eq(now),
            jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The job `id` if it is `person`'s, as of `now`.
pub fn find(
    conn: &mut DbConn,
    id: i64,
    person: PersonId,
    now: NaiveDateTime,
) -> QueryResult<Option<Job>> {
    type Row = (
        i64,
        String,
        i32,
        i32,
        i32,
        String,
        Option<String>,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let row: Option<Row> = jobs::table
        .filter(jobs::id.eq(id))
        .filter(jobs::person_id.eq(person))
        .select((
            jobs::id,
            jobs::kind,
            jobs::total,
            jobs::done,
            jobs::failed,
            jobs::status,
            jobs::message,
            jobs::outcomes,
            jobs::created_at,
            jobs::updated_at,
            jobs::finished_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, kind, total, done, failed, status, message, outcomes, created, updated, finished)| {
            let stale =
                status == "running" && now - updated > chrono::TimeDelta::minutes(STALE_MINUTES);
            Job {
                id,
                kind,
                total,
                done,
                failed,
                status: if stale { "stopped".into() } else { status },
                message: if stale { Some(STOPPED.into()) } else { message },
                outcomes: serde_json::from_str(&outcomes).unwrap_or_default(),
                created_at: created,
                updated_at: updated,
                finished_at: finished,
            }
        },
    ))
}

/// Whether `person` has a job of `kind` still running (moved within [`STALE_MINUTES`]): one
/// at a time each, so that nobody fills the server with exports or signings.
pub fn running(
    conn: &mut DbConn,
    person: PersonId,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let live: i64 = jobs::table
        .filter(jobs::person_id.eq(person))
        .filter(jobs::kind.eq(kind))
        .filter(jobs::status.eq("running"))
        .filter(jobs::updated_at.gt(now - chrono::TimeDelta::minutes(STALE_MINUTES)))
        .count()
        .get_result(conn)?;
    Ok(live > 0)
}
