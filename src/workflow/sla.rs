//! SLA clocks: for every step a request has entered, its time standard, deadline, the working
//! time it took (or has taken so far) and whether it is late. Times are shown in the office's
//! local time.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::{Result, find, sop_version, stored};
use crate::calendar;
use crate::db::DbConn;
use crate::db::schema::request_steps;
use crate::ids::{PersonId, RequestId};
use crate::office;

/// One pass of a request through a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    pub step_no: String,
    pub description: String,
    pub actors: Vec<String>,
    /// The time standard as the SOP writes it: "1 hari", "12-24 jam", "tentatif".
    pub standard: String,
    /// Office local time.
    pub entered_at: NaiveDateTime,
    /// Office local time; none for a tentative step.
    pub deadline: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub completed_by: Option<PersonId>,
    pub decision: Option<String>,
    pub next_step: Option<String>,
    /// Working minutes from entering the step to completing it, or to `now` while it is open.
    pub working_minutes: i64,
    /// Completed after its deadline, or still open past it.
    pub late: bool,
}

type Row = (
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<PersonId>,
    Option<String>,
    Option<String>,
);

/// Every step `request` has entered, in order, with its SLA figures as of `now`.
pub fn history(
    conn: &mut DbConn,
    request: RequestId,
    now: DateTime<Utc>,
) -> Result<Vec<StepRecord>> {
    let req = find(conn, request)?;
    let sop = sop_version(conn, req.sop_version_id)?;
    let offset = office::find(conn, req.office_id)?.zone().offset();
    let calendar = calendar::for_office(conn, req.office_id)?;
    let rows: Vec<Row> = request_steps::table
        .filter(request_steps::request_id.eq(request))
        .order(request_steps::id)
        .select((
            request_steps::step_no,
            request_steps::entered_at,
            request_steps::deadline_at,
            request_steps::completed_at,
            request_steps::completed_by,
            request_steps::decision,
            request_steps::next_step,
        ))
        .load(conn)?;
    let now = stored(now);
    Ok(rows
        .into_iter()
        .map(
            |(step_no, entered, deadline, completed, by, decision, next_step)| {
                let step = sop.step(&step_no);
                let until = completed.unwrap_or(now);
                StepRecord {
                    description: step.map(|s| s.description.clone()).unwrap_or_default(),
                    actors: step.map(|s| s.actors.clone()).unwrap_or_default(),
                    standard: step.map(|s| s.time.to_string()).unwrap_or_default(),
                    entered_at: entered + offset,
                    deadline: deadline.map(|d| d + offset),
                    completed_at: completed.map(|c| c + offset),
                    completed_by: by,
                    decision,
                    next_step,
                    working_minutes: calendar
                        .working_time_between(entered + offset, until + offset)
                        .num_minutes(),
                    late: deadline.is_some_and(|d| until > d),
                    step_no,
                }
            },
        )
        .collect())
}
