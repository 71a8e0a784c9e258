//! Scheduled work, with tokio-cron-scheduler, while `naskah serve` runs: each office's SLA
//! report (default every Monday 07:00, for the week before), its annual report (default each
//! January day at 07:00, made once the office's first working day of January has come, for
//! the year before), and the daily audit check (01:30), which reports a break to the admins.
//!
//! Each period's report is made once however many instances run the schedule: the claim in
//! `report_runs` decides (`reports::make`). At start-up each instance also makes the period
//! now due when it is missing, so a period missed while naskah was down is made at the next
//! start. Schedules are cron lines with seconds (`sec min hour day-of-month month
//! day-of-week`), in each office's local time, checked when the configuration is read.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use serde::Deserialize;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::db::Db;
use crate::db::schema::{inbox, person_roles};
use crate::ids::OfficeId;
use crate::reports::Period;
use crate::reports::make::{self, ReportError, ReportKind};

/// The `[schedule]` table: when reports are made and the audit log checked (cron with seconds:
/// `sec min hour day-of-month month day-of-week`, in each office's local time), and who signs
/// each office's reports.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub sla: Option<String>,
    pub annual: Option<String>,
    pub audit: Option<String>,
    #[serde(default)]
    pub signers: BTreeMap<String, ReportSigner>,
}

/// Who signs an office's reports, and where the passphrase of their key is.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSigner {
    pub username: String,
    /// The environment variable holding the passphrase.
    pub passphrase_env: String,
}

pub const DEFAULT_SLA: &str = "0 0 7 * * Mon";
pub const DEFAULT_ANNUAL: &str = "0 0 7 * Jan *";
pub const DEFAULT_AUDIT: &str = "0 30 1 * * *";

/// The schedule as configured, its cron lines checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub sla: String,
    pub annual: String,
    pub audit: String,
    /// By office code: who signs its reports (a username), and the environment variable
    /// holding their passphrase, read when a report is made.
    pub signers: BTreeMap<String, (String, String)>,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            sla: DEFAULT_SLA.to_owned(),
            annual: DEFAULT_ANNUAL.to_owned(),
            audit: DEFAULT_AUDIT.to_owned(),
            signers: BTreeMap::new(),
        }
    }
}

/// Whether `line` is a cron line the scheduler takes.
fn check(line: &str) -> Result<(), String> {
    Job::new_async(line, |_, _| Box::pin(async {}))
        .map(|_| ())
        .map_err(|e| format!("'{line}' is not a cron line with seconds ({e:?})"))
}

impl Schedule {
    /// The `[schedule]` table, overridden by `NASKAH_SCHEDULE_SLA`, `_ANNUAL` and `_AUDIT`;
    /// on a bad line, the setting's name and the problem.
    pub fn from_settings(
        settings: ScheduleSettings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Schedule, (String, String)> {
        let pick = |key: &str, own: Option<String>, default: &str| {
            let var = format!("NASKAH_SCHEDULE_{}", key.to_uppercase());
            let (line, origin) = match (env(&var), own) {
                (Some(line), _) => (line, var),
                (None, Some(line)) => (line, key.to_owned()),
                (None, None) => (default.to_owned(), key.to_owned()),
            };
            check(line.trim()).map_err(|problem| (origin, problem))?;
            Ok::<_, (String, String)>(line.trim().to_owned())
        };
        Ok(Schedule {
            sla: pick("sla", settings.sla, DEFAULT_SLA)?,
            annual: pick("annual", settings.annual, DEFAULT_ANNUAL)?,
            audit: pick("audit", settings.audit, DEFAULT_AUDIT)?,
            signers: settings
                .signers
                .into_iter()
                .map(
                    |(
                        office,
                        ReportSigner {
                            username,
                            passphrase_env,
                        },
                    )| { (office, (username, passphrase_env)) },
                )
                .collect(),
        })
    }
}

/// Everything the jobs need.
pub struct Context {
    pub db: Db,
    pub tte: crate::tte::Settings,
    pub schedule: Schedule,
    pub instance: String,
}

/// The period of `kind` due at `now` (UTC) for an office `offset` ahead of UTC: the week
/// before this one; the year before this one once the first working day of January has come.
pub fn due(
    kind: ReportKind,
    now: chrono::NaiveDateTime,
    offset: Duration,
    calendar: &crate::calendar::Calendar,
) -> Option<Period> {
    let today = (now + offset).date();
    match kind {
        ReportKind::Sla => Some(Period::week_of(today - Duration::days(7))),
        ReportKind::Annual => {
            let mut first = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
            while !calendar.is_working_day(first) && first.month() == 1 {
                first = first.succ_opt()?;
            }
            (today >= first)
                .then(|| Period::year(today.year() - 1))
                .flatten()
        }
    }
}

/// Makes the `kind` report of `office` due now, unless it is made; logs what happened.
pub async fn make_due(context: Arc<Context>, kind: ReportKind, office: String) {
    let Some((username, passphrase_env)) = context.schedule.signers.get(&office).cloned() else {
        return;
    };
    let ctx = context.clone();
    let outcome = context
        .db
        .run(
            move |conn| -> Result<Option<(Period, make::Made)>, ReportError> {
                let found = crate::office::find_by_code(conn, &office)?
                    .ok_or(ReportError::Missing("office"))?;
                let calendar = crate::calendar::for_office(conn, found.id)?;
                let Some(period) = due(kind, crate::db::now(), found.zone().offset(), &calendar)
                else {
                    return Ok(None);
                };
                let signer = crate::people::find_by_username(conn, &username)?
                    .ok_or(ReportError::Missing("report signer"))?;
                let passphrase = std::env::var(&passphrase_env).map_err(|_| {
                    ReportError::Failed(format!(
                        "{passphrase_env} (the report signer's passphrase) is not set"
                    ))
                })?;
                let made = make::make(
                    conn,
                    &ctx.tte,
                    &make::Order {
                        office: &found,
                        kind,
                        period: &period,
                        made_by: "schedule",
                        instance: &ctx.instance,
                    },
                    &make::Signer {
                        person: signer.id,
                        passphrase: &passphrase,
                    },
                )?;
                Ok(Some((period, made)))
            },
        )
        .await;
    match outcome {
        Ok(Some((period, made))) => tracing::info!(
            report = kind.id(),
            period = period.key,
            number = made.number,
            "report made and delivered"
        ),
        Err(ReportError::AlreadyMade { period, .. }) => {
            tracing::info!(report = kind.id(), period, "report already made");
        }
        Ok(None) => {}
        Err(error) => tracing::error!(report = kind.id(), %error, "report not made"),
    }
}

/// The daily audit check: a break goes to the log and to every admin's inbox; an intact log
/// gets a checkpoint of its chains' heads ([`crate::audit::checkpoint`]).
pub async fn audit_check(context: Arc<Context>) {
    let outcome = context
        .db
        .run(|conn| -> Result<(bool, usize), crate::db::DbError> {
            let found = crate::archive::integrity::findings(conn)?;
            let problems = found.breaks.len() + found.flaws.len();
            if problems > 0 {
                let admins: Vec<crate::ids::PersonId> = person_roles::table
                    .filter(person_roles::role.eq(crate::people::roles::ADMIN))
                    .select(person_roles::person_id)
                    .distinct()
                    .load(conn)?;
                let subject = format!(
                    "Pemeriksaan log audit: {} kerusakan rantai, {} kerusakan arsip; jalankan naskah audit verify",
                    found.breaks.len(),
                    found.flaws.len()
                );
                for admin in admins {
                    diesel::insert_into(inbox::table)
                        .values((
                            inbox::person_id.eq(admin),
                            inbox::kind.eq("audit.break"),
                            inbox::subject.eq(&subject),
                            inbox::created_at.eq(crate::db::now()),
                        ))
                        .execute(conn)?;
                }
            } else {
                // The heads of an intact log are recorded, so that a tail cut later shows.
                crate::db::write_transaction(conn, crate::audit::checkpoint)?;
            }
            Ok((problems == 0, problems))
        })
        .await;
    match outcome {
        Ok((true, _)) => tracing::info!("audit log and archive intact"),
        Ok((false, problems)) => {
            tracing::error!(problems, "the audit log or the archive does not hold")
        }
        Err(error) => tracing::error!(%error, "audit check failed"),
    }
}

/// Starts the jobs: per office with a report signer, its SLA and annual reports in its local
/// time; the audit check in WIB. Then makes what is due and missing.
pub async fn start(context: Arc<Context>) -> Result<JobScheduler, String> {
    let offices: Vec<(OfficeId, String, String)> = context
        .db
        .run(|conn| {
            crate::db::schema::offices::table
                .select((
                    crate::db::schema::offices::id,
                    crate::db::schema::offices::code,
                    crate::db::schema::offices::time_zone,
                ))
                .load(conn)
                .map_err(crate::db::DbError::from)
        })
        .await
        .map_err(|e| e.to_string())?;
    let scheduler = JobScheduler::new().await.map_err(|e| format!("{e:?}"))?;
    let mut due_now = Vec::new();
    for (_, code, zone) in offices {
        if !context.schedule.signers.contains_key(&code) {
            tracing::warn!(
                office = code,
                "no report signer configured: reports not scheduled"
            );
            continue;
        }
        let hours = zone
            .parse::<crate::office::TimeZone>()
            .map_or(7, |z| z.offset().num_hours());
        let tz = chrono::FixedOffset::east_opt((hours * 3600) as i32)
            .ok_or_else(|| format!("time zone of {code}"))?;
        for (kind, line) in [
            (ReportKind::Sla, &context.schedule.sla),
            (ReportKind::Annual, &context.schedule.annual),
        ] {
            let (ctx, office) = (context.clone(), code.clone());
            let job = Job::new_async_tz(line.as_str(), tz, move |_, _| {
                Box::pin(make_due(ctx.clone(), kind, office.clone()))
            })
            .map_err(|e| format!("{e:?}"))?;
            scheduler.add(job).await.map_err(|e| format!("{e:?}"))?;
            due_now.push((kind, code.clone()));
        }
    }
    let ctx = context.clone();
    let wib = chrono::FixedOffset::east_opt(7 * 3600).ok_or("WIB")?;
    let audit = Job::new_async_tz(context.schedule.audit.as_str(), wib, move |_, _| {
        Box::pin(audit_check(ctx.clone()))
    })
    .map_err(|e| format!("{e:?}"))?;
    scheduler.add(audit).await.map_err(|e| format!("{e:?}"))?;
    scheduler.start().await.map_err(|e| format!("{e:?}"))?;
    // What came due while naskah was down.
    tokio::spawn(async move {
        for (kind, office) in due_now {
            make_due(context.clone(), kind, office).await;
        }
    });
    Ok(scheduler)
}
