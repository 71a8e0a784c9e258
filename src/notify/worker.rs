//! The delivery worker: a thread of `naskah serve` that, every second, makes out the
//! deliveries of new events and sends those that are due.
//!
//! Each step is claimed in the database before it is done, so that several processes sharing
//! one database make out an event's deliveries once and send each delivery once: an event is
//! claimed by setting its `fanned_out_at` where it is still empty, a delivery by raising its
//! `attempts` where they are still what was read (and moving `next_attempt_at` a lease ahead,
//! so that a process that dies mid-call leaves it to be tried again). A failed attempt is
//! tried again after the retry delay, doubled with each attempt up to six hours; after
//! [`MAX_ATTEMPTS`] the delivery is given up (`failed`, with the last error kept).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::Value;

use super::mail::Mail;
use super::webhook::Webhook;
use crate::db::schema::requests;
use crate::db::schema::{notification_deliveries as deliveries, notifications, offices, people};
use crate::db::{Db, DbConn, DbError};

/// How many times a delivery is tried before it is given up.
pub const MAX_ATTEMPTS: i32 = 10;
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(6 * 3600);
/// How long a claimed delivery is left to the process that claimed it.
const LEASE: Duration = Duration::from_secs(60);
/// How often the worker looks for work.
const POLL: Duration = Duration::from_secs(1);
/// The most events made out, and deliveries sent, in one pass.
const BATCH: i64 = 50;

/// Where notifications go.
#[derive(Clone, Debug)]
pub struct Settings {
    pub webhooks: Vec<Webhook>,
    pub mail: Option<Mail>,
    /// The address people reach naskah at, for the links in e-mails.
    pub public_url: String,
    /// The wait before the first retry; doubled with each attempt.
    pub retry: Duration,
}

impl Settings {
    /// Whether anything is configured to receive notifications.
    pub fn any(&self) -> bool {
        !self.webhooks.is_empty() || self.mail.is_some()
    }
}

/// The wait after the `attempts`-th failed attempt: `retry`, doubled with each attempt, at
/// most six hours.
pub fn backoff(retry: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    retry
        .checked_mul(1 << doublings)
        .map_or(MAX_DELAY, |d| d.min(MAX_DELAY))
}

/// The running worker; [`Worker::stop`] ends it after the call it is making.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the worker on `db`.
pub fn start(db: Db, settings: Settings) -> std::io::Result<Worker> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                if let Err(error) = pass(&db, &settings, crate::db::now()) {
                    tracing::warn!(%error, "notifications: pass failed, tried again");
                }
                std::thread::sleep(POLL);
            }
        })?;
    Ok(Worker {
        stop,
        thread: Some(thread),
    })
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub made_out: usize,
    pub delivered: usize,
    pub failed_attempts: usize,
}

/// Makes out the deliveries of new events and sends the due ones, as of `now` (the pass's
/// start: a call takes seconds, and the next attempt's time is counted from it).
pub fn pass(db: &Db, settings: &Settings, now: NaiveDateTime) -> Result<Pass, DbError> {
    let mut done = Pass {
        made_out: fan_out(&mut *db.get()?, settings, now)?,
        ..Pass::default()
    };
    let due: Vec<Due> = deliveries::table
        .inner_join(notifications::table)
        .filter(deliveries::status.eq("pending"))
        .filter(deliveries::next_attempt_at.le(now))
        .order(deliveries::next_attempt_at)
        .limit(BATCH)
        .select((
            deliveries::id,
            deliveries::channel,
            deliveries::target,
            deliveries::attempts,
            notifications::id,
            notifications::event,
            notifications::payload,
            notifications::created_at,
        ))
        .load(&mut *db.get()?)?;
    for due in due {
        // Claimed first, so that of several processes one makes the call.
        let attempt = due.3 + 1;
        let claimed = diesel::update(
            deliveries::table
                .filter(deliveries::id.eq(due.0))
                .filter(deliveries::status.eq("pending"))
                .filter(deliveries::attempts.eq(due.3)),
        )
        .set((
            deliveries::attempts.eq(attempt),
            deliveries::next_attempt_at.eq(now + delta(LEASE)),
        ))
        .execute(&mut *db.get()?)?;
        if claimed != 1 {
            continue;
        }
        // The call is made holding no database connection.
        let outcome = deliver(settings, &due);
        let mut conn = db.get()?;
        let row = deliveries::table
            .filter(deliveries::id.eq(due.0))
            .filter(deliveries::attempts.eq(attempt));
        match outcome {
            Ok(()) => {
                diesel::update(row)
                    .set((
                        deliveries::status.eq("delivered"),
                        deliveries::delivered_at.eq(now),
                        deliveries::last_error.eq(None::<String>),
                    ))
                    .execute(&mut conn)?;
                done.delivered += 1;
            }
            Err(error) => {
                let given_up = attempt >= MAX_ATTEMPTS;
                tracing::warn!(
                    delivery = due.0,
                    channel = %due.1,
                    attempt,
                    given_up,
                    %error,
                    "notification not delivered"
                );
                diesel::update(row)
                    .set((
                        deliveries::status.eq(if given_up { "failed" } else { "pending" }),
                        deliveries::next_attempt_at
                            .eq(now + delta(backoff(settings.retry, attempt))),
                        deliveries::last_error.eq(Some(one_line(&error))),
                    ))
                    .execute(&mut conn)?;
                done.failed_attempts += 1;
            }
        }
    }
    Ok(done)
}

/// A due delivery: id, channel, target, attempts so far; its notification's id, event,
/// payload and time.
type Due = (i64, String, String, i32, i64, String, String, NaiveDateTime);

fn deliver(settings: &Settings, due: &Due) -> Result<(), String> {
    let (_, channel, target, _, notification, event, payload, at) = due;
    let payload: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    match channel.as_str() {
        "webhook" => {
            let hook = settings
                .webhooks
                .iter()
                .find(|h| h.url == *target)
                .ok_or("this webhook is no longer configured")?;
            let body = serde_json::json!({
                "notification": notification,
                "event": event,
                "occurred_at": at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "data": payload,
            });
            hook.call(
                event,
                *notification,
                body.to_string().as_bytes(),
                chrono::Utc::now().timestamp(),
            )
        }
        "email" => {
            let mail = settings
                .mail
                .as_ref()
                .ok_or("no SMTP server is configured any more")?;
            let (subject, body) = message(event, &payload, &settings.public_url);
            mail.send(target, &subject, body)
        }
        other => Err(format!("unknown channel '{other}'")),
    }
}

/// Makes out the deliveries of events not yet made out: one per webhook that wants the
/// event, one e-mail to the applicant when they have an address and a server is configured.
fn fan_out(conn: &mut DbConn, settings: &Settings, now: NaiveDateTime) -> Result<usize, DbError> {
    type New = (i64, String, String, Option<crate::ids::RequestId>);
    let new: Vec<New> = notifications::table
        .inner_join(offices::table)
        .filter(notifications::fanned_out_at.is_null())
        .order(notifications::id)
        .limit(BATCH)
        .select((
            notifications::id,
            notifications::event,
            offices::code,
            notifications::request_id,
        ))
        .load(conn)?;
    let mut made = 0;
    for (id, event, office, request) in new {
        made += crate::db::write_transaction(conn, |conn| -> Result<usize, DbError> {
            let claimed = diesel::update(
                notifications::table
                    .filter(notifications::id.eq(id))
                    .filter(notifications::fanned_out_at.is_null()),
            )
            .set(notifications::fanned_out_at.eq(now))
            .execute(conn)?;
            if claimed != 1 {
                return Ok(0);
            }
            let mut targets: Vec<(&str, String)> = settings
                .webhooks
                .iter()
                .filter(|h| h.wants(&event, &office))
                .map(|h| ("webhook", h.url.clone()))
                .collect();
            if settings.mail.is_some()
                && let Some(request) = request
                && for_applicant(conn, id, &event)?
            {
                let email: Option<String> = requests::table
                    .inner_join(people::table)
                    .filter(requests::id.eq(request))
                    .select(people::email)
                    .first::<Option<String>>(conn)?;
                if let Some(email) = email.filter(|e| !e.trim().is_empty()) {
                    targets.push(("email", email));
                }
            }
            targets.sort();
            targets.dedup();
            for (channel, target) in &targets {
                diesel::insert_into(deliveries::table)
                    .values((
                        deliveries::notification_id.eq(id),
                        deliveries::channel.eq(channel),
                        deliveries::target.eq(target),
                        deliveries::status.eq("pending"),
                        deliveries::attempts.eq(0),
                        deliveries::next_attempt_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            Ok(targets.len())
        })?;
    }
    Ok(made)
}

/// Whether the applicant hears of event `id` by e-mail: a finished request, a signed letter
/// that goes to their agency (not the Dinas's own working papers).
fn for_applicant(conn: &mut DbConn, id: i64, event: &str) -> Result<bool, DbError> {
    if event != super::LETTER_SIGNED {
        return Ok(true);
    }
    let kind: Option<String> = notifications::table
        .inner_join(crate::db::schema::letters::table)
        .filter(notifications::id.eq(id))
        .select(crate::db::schema::letters::kind)
        .first(conn)
        .optional()?;
    Ok(kind
        .and_then(|k| k.parse::<crate::letters::LetterKind>().ok())
        .is_some_and(crate::letters::LetterKind::to_applicant))
}

/// The e-mail for an event: subject and plain-text body, in Indonesian.
fn message(event: &str, payload: &Value, public_url: &str) -> (String, String) {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let request = &payload["request"];
    let application = text(&request["application"]);
    let organization = text(&request["organization"]);
    let base = public_url.trim_end_matches('/');
    let page = format!("{base}/permohonan/{}", request["id"]);
    let closing = "Pesan ini dikirim otomatis oleh naskah; mohon tidak membalas.";
    if event == super::LETTER_SIGNED {
        let letter = &payload["letter"];
        let name = text(&letter["name"]);
        let number = letter["number"].as_str().unwrap_or("(tanpa nomor)");
        (
            format!("[naskah] {name} untuk {application} telah ditandatangani"),
            format!(
                "Yth. Bapak/Ibu,\n\n{name} nomor {number} perihal \"{}\" untuk permohonan \
                 {application} ({organization}) telah ditandatangani secara elektronik.\n\n\
                 Lihat permohonan: {page}\nPeriksa keaslian surat: {base}/verifikasi/{}\n\n\
                 {closing}\n",
                text(&letter["hal"]),
                text(&letter["public_id"]),
            ),
        )
    } else {
        let outcome = if request["status"] == "rejected" {
            "ditolak"
        } else {
            "selesai diproses"
        };
        (
            format!("[naskah] Permohonan {application} {outcome}"),
            format!(
                "Yth. Bapak/Ibu,\n\nPermohonan {application} ({organization}) telah {outcome}.\
                 \n\nLihat permohonan: {page}\n\n{closing}\n"
            ),
        )
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_six_hours() {
        let base = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=MAX_ATTEMPTS)
            .map(|n| backoff(base, n).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360]);
        assert_eq!(backoff(Duration::from_secs(3600), 9), MAX_DELAY);
        assert_eq!(backoff(base, 1000), MAX_DELAY);
    }

    #[test]
    fn the_email_names_the_letter_and_links_the_request_and_the_verification() {
        let payload = serde_json::json!({
            "office": "banggai",
            "request": { "id": 7, "application": "SIMPUS", "organization": "Dinas Kesehatan",
                         "status": "open" },
            "letter": { "name": "Surat Rekomendasi", "number": "500.12/7/DKIP/2026",
                        "hal": "Rekomendasi Hosting", "public_id": "abc123" },
        });
        let (subject, body) = message(
            super::super::LETTER_SIGNED,
            &payload,
            "https://naskah.example.go.id/",
        );
        assert_eq!(
            subject,
            "[naskah] Surat Rekomendasi untuk SIMPUS telah ditandatangani"
        );
        assert!(body.contains("nomor 500.12/7/DKIP/2026"), "{body}");
        assert!(
            body.contains("https://naskah.example.go.id/permohonan/7\n"),
            "{body}"
        );
        assert!(
            body.contains("https://naskah.example.go.id/verifikasi/abc123"),
            "{body}"
        );
        let payload = serde_json::json!({
            "request": { "id": 7, "application": "SIMPUS", "organization": "Dinkes",
                         "status": "rejected" },
        });
        let (subject, _) = message(super::super::REQUEST_FINISHED, &payload, "http://x");
        assert_eq!(subject, "[naskah] Permohonan SIMPUS ditolak");
    }
}
