//! The hosting records the SOPs keep: each hosted application with its subdomain, IP address,
//! server, hosting account (its login name: a password is never recorded; the handover shows
//! it once), OPD and state. They are read from the workflow's own records (the request and
//! the artefacts its steps recorded, the latest of each), so they are as current as the
//! workflow.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{request_items, requests};
use crate::ids::{OfficeId, PersonId, RequestId};

/// One application's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    pub request: RequestId,
    pub application: String,
    pub opd: String,
    /// `aktif` (hosted), `dalam_proses`, `ditolak`, `ditarik`.
    pub state: &'static str,
    pub subdomain: Option<String>,
    pub ip_address: Option<String>,
    pub server: Option<String>,
    pub account: Option<String>,
    pub since: Option<chrono::NaiveDateTime>,
}

fn state(status: &str) -> &'static str {
    match status {
        "finished" => "aktif",
        "rejected" => "ditolak",
        "withdrawn" => "ditarik",
        _ => "dalam_proses",
    }
}

/// The records of `office`; with `applicant`, only that applicant's requests.
pub fn records(
    conn: &mut DbConn,
    office: OfficeId,
    applicant: Option<PersonId>,
) -> QueryResult<Vec<Record>> {
    let mut query = requests::table
        .filter(requests::office_id.eq(office))
        .order(requests::id)
        .select((
            requests::id,
            requests::application_name,
            requests::applicant_organization,
            requests::status,
            requests::subdomain,
            requests::finished_at,
        ))
        .into_boxed();
    if let Some(person) = applicant {
        query = query.filter(requests::applicant_id.eq(person));
    }
    type Row = (
        RequestId,
        String,
        String,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Row> = query.load(conn)?;
    let ids: Vec<RequestId> = rows.iter().map(|r| r.0).collect();
    let mut recorded = latest_artefacts(
        conn,
        &ids,
        &["subdomain", "alamat_ip", "server", "akun_hosting"],
    )?;
    let mut take = |request: RequestId, item: &str| recorded.remove(&(request, item.to_owned()));
    Ok(rows
        .into_iter()
        .map(
            |(request, application, opd, status, asked, finished)| Record {
                subdomain: take(request, "subdomain").or(asked),
                ip_address: take(request, "alamat_ip"),
                server: take(request, "server"),
                account: take(request, "akun_hosting"),
                state: state(&status),
                since: finished,
                request,
                application,
                opd,
            },
        )
        .collect())
}

/// The latest value of each of `items` the workflow recorded for each of `requests` (an
/// artefact recorded again replaces the one before).
pub fn latest_artefacts(
    conn: &mut DbConn,
    requests: &[RequestId],
    items: &[&str],
) -> QueryResult<HashMap<(RequestId, String), String>> {
    let mut latest = HashMap::new();
    for chunk in requests.chunks(1_000) {
        let found: Vec<(RequestId, String, String)> = request_items::table
            .filter(request_items::request_id.eq_any(chunk))
            .filter(request_items::kind.eq("artefact"))
            .filter(request_items::item.eq_any(items))
            .order(request_items::id)
            .select((
                request_items::request_id,
                request_items::item,
                request_items::value,
            ))
            .load(conn)?;
        for (request, item, value) in found {
            latest.insert((request, item), value);
        }
    }
    Ok(latest)
}
