//! Generated requests for the reports' tests and benchmark: a year of requests at an office,
//! from a dozen OPDs, each through the first steps of its SOP with times around the standard,
//! most finished (with the subdomain and IP address recorded), some rejected, some still open.
//! The same seed gives the same requests. Written a transaction per 500 requests, without audit
//! entries: this is load for the reports, not history.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{person_roles, request_items, request_steps, requests};
use crate::db::{DbConn, write_transaction};
use crate::ids::{PersonId, RequestId};
use crate::office::Office;

const OPDS: [&str; 12] = [
    "Dinas Kesehatan",
    "Dinas Pendidikan dan Kebudayaan",
    "Badan Pendapatan Daerah",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Badan Kepegawaian dan Pengembangan SDM",
    "Dinas Pertanian",
    "Sekretariat DPRD",
    "Dinas Perhubungan",
    "Badan Perencanaan Pembangunan Daerah",
    "Dinas Sosial",
    "Inspektorat",
    "Dinas Penanaman Modal dan PTSP",
];

/// Requests written per transaction.
const BATCH: usize = 500;

/// A small, fast, seeded generator (xorshift64*).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

type StepRow = (
    RequestId,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<PersonId>,
);

/// Writes `count` requests filed at `office` during `year`. Returns how many were written.
pub fn generate(
    conn: &mut DbConn,
    office: &Office,
    year: i32,
    count: usize,
    seed: u64,
) -> Result<usize, crate::workflow::WorkflowError> {
    let (version, sop) = crate::workflow::current_sop(conn, office.id)?;
    let applicant_role = sop
        .roles
        .iter()
        .find(|r| r.applicant)
        .map(|r| r.id.clone())
        .unwrap_or_default();
    let applicant: PersonId = person_roles::table
        .filter(person_roles::office_id.eq(office.id))
        .filter(person_roles::role.eq(&applicant_role))
        .select(person_roles::person_id)
        .first(conn)?;
    let staff: PersonId = person_roles::table
        .filter(person_roles::office_id.eq(office.id))
        .filter(person_roles::role.ne(&applicant_role))
        .select(person_roles::person_id)
        .first(conn)?;
    // Times are the office's local ones, in its working hours, as the workflow keeps them;
    // stored in UTC.
    let calendar = crate::calendar::for_office(conn, office.id)?;
    let offset = office.zone().offset();
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap_or_default()
        .and_time(chrono::NaiveTime::MIN);
    let day = calendar.day_length();
    let limits: Vec<Duration> = sop
        .steps
        .iter()
        .map(|s| super::sla::limit(&s.time, day).unwrap_or(Duration::hours(4)))
        .collect();
    let mut dice = Dice(seed.max(1));
    let mut written = 0;
    for chunk_start in (0..count).step_by(BATCH) {
        let size = BATCH.min(count - chunk_start);
        write_transaction(conn, |conn| {
            let mut plans = Vec::with_capacity(size);
            for i in chunk_start..chunk_start + size {
                let filed = calendar.add_working_time(
                    calendar.next_working_moment(start + Duration::days(dice.below(360) as i64)),
                    Duration::minutes(dice.below(day.num_minutes().max(1) as u64) as i64),
                );
                let roll = dice.below(100);
                let status = match roll {
                    0..70 => "finished",
                    70..85 => "rejected",
                    _ => "open",
                };
                let opd = OPDS[dice.below(OPDS.len() as u64) as usize];
                // Steps taken: all for a finished request, part for the others.
                let steps = match status {
                    "finished" => sop.steps.len(),
                    _ => 1 + dice.below(sop.steps.len().max(1) as u64) as usize,
                };
                let mut at = filed;
                let mut rows: Vec<(usize, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)> =
                    Vec::with_capacity(steps);
                for (k, limit) in limits.iter().take(steps).enumerate() {
                    // Between a fifth of the standard and nearly twice it, in working time.
                    let taken = Duration::seconds(
                        (limit.num_seconds().max(60) * (20 + dice.below(160) as i64)) / 100,
                    );
                    let done = status != "open" || k + 1 < steps;
                    let deadline = sop.steps[k]
                        .time
                        .deadline(&calendar, at)
                        .unwrap_or_else(|| calendar.add_working_time(at, *limit));
                    let end = calendar.add_working_time(at, taken);
                    rows.push((
                        k,
                        at - offset,
                        deadline - offset,
                        done.then_some(end - offset),
                    ));
                    at = end;
                }
                let finished_at = (status != "open").then_some(at - offset);
                plans.push((i, filed - offset, status, opd, rows, finished_at));
            }
            let values: Vec<_> = plans
                .iter()
                .map(|(i, filed, status, opd, _, finished_at)| {
                    (
                        requests::office_id.eq(office.id),
                        requests::sop_version_id.eq(version),
                        requests::applicant_id.eq(applicant),
                        requests::applicant_organization.eq(*opd),
                        requests::application_name.eq(format!("Aplikasi {i}")),
                        requests::subdomain.eq(Some(format!("aplikasi{i}"))),
                        requests::status.eq(*status),
                        requests::filed_at.eq(*filed),
                        requests::updated_at.eq(*filed),
                        requests::finished_at.eq(*finished_at),
                    )
                })
                .collect();
            // Row by row: naskah's connection serves two backends, and batch inserts are not
            // among what both share.
            let ids = values
                .into_iter()
                .map(|row| {
                    diesel::insert_into(requests::table)
                        .values(row)
                        .returning(requests::id)
                        .get_result::<RequestId>(conn)
                })
                .collect::<QueryResult<Vec<RequestId>>>()?;
            let mut steps: Vec<StepRow> = Vec::new();
            let mut items = Vec::new();
            for (id, (i, _, status, _, rows, _)) in ids.iter().zip(&plans) {
                for (k, entered, deadline, completed) in rows {
                    steps.push((
                        *id,
                        sop.steps[*k].no.clone(),
                        *entered,
                        Some(*deadline),
                        *completed,
                        completed.map(|_| staff),
                    ));
                }
                if *status == "finished" {
                    let at = rows.last().and_then(|r| r.3).unwrap_or_default();
                    for (item, value) in [
                        ("subdomain", format!("aplikasi{i}.{}.go.id", office.code)),
                        (
                            "alamat_ip",
                            format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
                        ),
                    ] {
                        items.push((
                            request_items::request_id.eq(*id),
                            request_items::kind.eq("artefact"),
                            request_items::item.eq(item),
                            request_items::value.eq(value),
                            request_items::created_by.eq(staff),
                            request_items::created_at.eq(at),
                        ));
                    }
                }
            }
            for (id, no, entered, deadline, completed, by) in &steps {
                diesel::insert_into(request_steps::table)
                    .values((
                        request_steps::request_id.eq(*id),
                        request_steps::step_no.eq(no.as_str()),
                        request_steps::entered_at.eq(*entered),
                        request_steps::deadline_at.eq(*deadline),
                        request_steps::completed_at.eq(*completed),
                        request_steps::completed_by.eq(*by),
                    ))
                    .execute(conn)?;
            }
            for item in items {
                diesel::insert_into(request_items::table)
                    .values(item)
                    .execute(conn)?;
            }
            written += ids.len();
            Ok::<_, crate::workflow::WorkflowError>(())
        })?;
    }
    Ok(written)
}
