//! The annual report (laporan tahunan) of one office for one year: requests received, approved
//! and rejected per OPD; the applications hosted, with subdomain, IP address, OPD and date;
//! SLA compliance by month; the electronic signatures made. Computed by SQL aggregates, so
//! that a year of many thousands of requests takes a few queries and little memory.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

use super::Period;
use crate::db::DbConn;
use crate::db::schema::{letter_signatures, letters, request_steps, requests};
use crate::ids::RequestId;
use crate::office::Office;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpdFigures {
    pub opd: String,
    pub received: i64,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hosted {
    pub application: String,
    pub subdomain: String,
    pub ip: String,
    pub opd: String,
    pub date: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Month {
    /// 1 to 12.
    pub month: u32,
    pub received: i64,
    /// Steps completed in the month that had a deadline, and how many of them by it.
    pub steps: i64,
    pub on_time: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnnualReport {
    pub year: i32,
    pub per_opd: Vec<OpdFigures>,
    pub hosted: Vec<Hosted>,
    pub months: Vec<Month>,
    pub signatures: i64,
}

/// A finished request: id, application, subdomain asked for, OPD, when it finished.
type FinishedRow = (
    RequestId,
    String,
    Option<String>,
    String,
    Option<NaiveDateTime>,
);

/// Computes the annual report of `office` for `year`, in the office's local time (times are
/// stored in UTC).
pub fn compute(conn: &mut DbConn, office: &Office, year: i32) -> QueryResult<AnnualReport> {
    let period = Period::year(year).ok_or(diesel::result::Error::NotFound)?;
    let offset = office.zone().offset();
    let (from, to) = period.utc_bounds(offset);
    let office = office.id;

    // Received in the year, by OPD and state.
    let by_state: Vec<(String, String, i64)> = requests::table
        .filter(requests::office_id.eq(office))
        .filter(requests::filed_at.ge(from))
        .filter(requests::filed_at.lt(to))
        .group_by((requests::applicant_organization, requests::status))
        .select((
            requests::applicant_organization,
            requests::status,
            count_star(),
        ))
        .load(conn)?;
    let mut per_opd: BTreeMap<String, OpdFigures> = BTreeMap::new();
    for (opd, status, count) in by_state {
        let figures = per_opd.entry(opd.clone()).or_insert(OpdFigures {
            opd,
            received: 0,
            approved: 0,
            rejected: 0,
        });
        figures.received += count;
        match status.as_str() {
            "finished" => figures.approved += count,
            "rejected" => figures.rejected += count,
            _ => {}
        }
    }

    // Hosted: finished in the year, with the subdomain and IP address the Dinas recorded.
    let finished: Vec<FinishedRow> = requests::table
        .filter(requests::office_id.eq(office))
        .filter(requests::status.eq("finished"))
        .filter(requests::finished_at.ge(from))
        .filter(requests::finished_at.lt(to))
        .order((requests::finished_at, requests::id))
        .select((
            requests::id,
            requests::application_name,
            requests::subdomain,
            requests::applicant_organization,
            requests::finished_at,
        ))
        .load(conn)?;
    let ids: Vec<RequestId> = finished.iter().map(|f| f.0).collect();
    let recorded = crate::hosting::latest_artefacts(conn, &ids, &["subdomain", "alamat_ip"])?;
    let hosted = finished
        .into_iter()
        .map(|(id, application, subdomain, opd, at)| Hosted {
            subdomain: recorded
                .get(&(id, "subdomain".to_owned()))
                .cloned()
                .or(subdomain)
                .unwrap_or_else(|| "-".to_owned()),
            ip: recorded
                .get(&(id, "alamat_ip".to_owned()))
                .cloned()
                .unwrap_or_else(|| "-".to_owned()),
            application,
            opd,
            date: at.map_or(period.from, |t| (t + offset).date()),
        })
        .collect();

    // By month: requests received, and steps done on time.
    let mut months: Vec<Month> = (1..=12)
        .map(|month| Month {
            month,
            received: 0,
            steps: 0,
            on_time: 0,
        })
        .collect();
    let filed: Vec<NaiveDateTime> = requests::table
        .filter(requests::office_id.eq(office))
        .filter(requests::filed_at.ge(from))
        .filter(requests::filed_at.lt(to))
        .select(requests::filed_at)
        .load(conn)?;
    for at in filed {
        months[(at + offset).month0() as usize].received += 1;
    }
    let steps: Vec<(NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>)> =
        request_steps::table
            .inner_join(requests::table)
            .filter(requests::office_id.eq(office))
            .filter(request_steps::completed_at.ge(from))
            .filter(request_steps::completed_at.lt(to))
            .filter(request_steps::deadline_at.is_not_null())
            .select((
                request_steps::entered_at,
                request_steps::deadline_at,
                request_steps::completed_at,
            ))
            .load(conn)?;
    for (_, deadline, completed) in steps {
        let (Some(deadline), Some(completed)) = (deadline, completed) else {
            continue;
        };
        let month = &mut months[(completed + offset).month0() as usize];
        month.steps += 1;
        if completed <= deadline {
            month.on_time += 1;
        }
    }

    let signatures: i64 = letter_signatures::table
        .inner_join(letters::table)
        .filter(letters::office_id.eq(office))
        .filter(letter_signatures::signed_at.ge(from))
        .filter(letter_signatures::signed_at.lt(to))
        .select(sql::<BigInt>("COUNT(*)"))
        .first(conn)?;

    Ok(AnnualReport {
        year,
        per_opd: per_opd.into_values().collect(),
        hosted,
        months,
        signatures,
    })
}

impl AnnualReport {
    /// The report's own fields for the `laporan_tahunan` template.
    pub fn fields(&self) -> serde_json::Value {
        use crate::letters::indonesian::month_name;
        let month_name_of = |m: u32| {
            NaiveDate::from_ymd_opt(self.year, m, 1)
                .map_or_else(String::new, |d| month_name(d).to_owned())
        };
        let per_opd: Vec<serde_json::Value> = self
            .per_opd
            .iter()
            .enumerate()
            .map(|(i, o)| {
                serde_json::json!({
                    "no": i + 1, "opd": o.opd, "received": o.received,
                    "approved": o.approved, "rejected": o.rejected,
                })
            })
            .collect();
        let hosted: Vec<serde_json::Value> = self
            .hosted
            .iter()
            .enumerate()
            .map(|(i, h)| {
                serde_json::json!({
                    "no": i + 1, "application": h.application, "subdomain": h.subdomain,
                    "ip": h.ip, "opd": h.opd,
                    "date": crate::letters::indonesian::long_date(h.date),
                })
            })
            .collect();
        let compliance: Vec<serde_json::Value> = self
            .months
            .iter()
            .map(|m| {
                let share = if m.steps == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.1} %", 100.0 * m.on_time as f64 / m.steps as f64).replace('.', ",")
                };
                serde_json::json!({
                    "month": month_name_of(m.month), "received": m.received,
                    "steps": m.steps, "on_time": m.on_time, "share": share,
                })
            })
            .collect();
        let chart: Vec<serde_json::Value> = self
            .months
            .iter()
            .map(|m| {
                serde_json::json!({
                    "label": month_name_of(m.month).chars().take(3).collect::<String>(),
                    "received": m.received,
                })
            })
            .collect();
        serde_json::json!({
            "year": self.year.to_string(),
            "per_opd": per_opd,
            "hosted": hosted,
            "compliance": compliance,
            "signatures": self.signatures,
            "chart_months": chart,
        })
    }
}
