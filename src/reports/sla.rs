//! The SLA report of one office for one period: for each step of its SOP, how many requests
//! left the step in the period, the median and 90th percentile of the working time they took
//! against the step's standard, and how many were late; the late steps and who held them; the
//! requests still open at the period's end past a step's deadline.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::{Period, duration_text, quantile};
use crate::calendar::Calendar;
use crate::db::DbConn;
use crate::db::schema::{people, person_roles, request_steps, requests};
use crate::ids::RequestId;
use crate::office::Office;
use crate::sop::Sop;
use crate::sop::time::{TimeStandard, TimeUnit};

/// One SOP step's figures.
#[derive(Clone, Debug, Serialize)]
pub struct StepFigures {
    pub step: String,
    pub description: String,
    pub count: usize,
    pub median: Option<Duration>,
    pub p90: Option<Duration>,
    pub standard: TimeStandard,
    /// The standard's upper bound as working time; `None` for a tentative step.
    pub limit: Option<Duration>,
    pub late: usize,
}

/// A step left after its deadline.
#[derive(Clone, Debug, Serialize)]
pub struct LateStep {
    pub request: RequestId,
    pub application: String,
    pub step: String,
    pub taken: Duration,
    pub held_by: String,
}

/// A step still open at the period's end, past its deadline.
#[derive(Clone, Debug, Serialize)]
pub struct Overdue {
    pub request: RequestId,
    pub application: String,
    pub step: String,
    pub deadline: NaiveDateTime,
    /// Who may take the step: the holders of its roles.
    pub held_by: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SlaReport {
    pub period: String,
    pub sop_number: Option<String>,
    pub steps: Vec<StepFigures>,
    pub late: Vec<LateStep>,
    pub overdue: Vec<Overdue>,
    /// A working day's length, to write durations.
    #[serde(skip)]
    pub day: Duration,
}

/// The step's standard as working time.
pub fn limit(standard: &TimeStandard, day: Duration) -> Option<Duration> {
    let (amount, unit) = match *standard {
        TimeStandard::Fixed { amount, unit } => (amount, unit),
        TimeStandard::Range { high, unit, .. } => (high, unit),
        TimeStandard::Tentative => return None,
    };
    Some(match unit {
        TimeUnit::Minutes => Duration::minutes(amount.into()),
        TimeUnit::Hours => Duration::hours(amount.into()),
        TimeUnit::Days => day * i32::try_from(amount).unwrap_or(i32::MAX),
    })
}

type StepRow = (
    RequestId,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// Computes the SLA report of `office` (whose SOP is `sop`, working by `calendar`) for
/// `period`, in the office's local time (times are stored in UTC).
pub fn compute(
    conn: &mut DbConn,
    office: &Office,
    sop: &Sop,
    calendar: &Calendar,
    period: &Period,
) -> QueryResult<SlaReport> {
    let offset = office.zone().offset();
    let (from, to) = period.utc_bounds(offset);
    let office = office.id;
    let day = calendar.day_length();
    let done: Vec<StepRow> = request_steps::table
        .inner_join(requests::table)
        .left_join(people::table.on(request_steps::completed_by.eq(people::id.nullable())))
        .filter(requests::office_id.eq(office))
        .filter(request_steps::completed_at.ge(from))
        .filter(request_steps::completed_at.lt(to))
        .order(request_steps::id)
        .select((
            request_steps::request_id,
            requests::application_name,
            request_steps::step_no,
            request_steps::entered_at,
            request_steps::deadline_at,
            request_steps::completed_at,
            people::full_name.nullable(),
        ))
        .load(conn)?;
    let mut taken: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut late_count: HashMap<&str, usize> = HashMap::new();
    let mut late = Vec::new();
    for (request, application, step, entered, deadline, completed, by) in &done {
        let Some(completed) = completed else { continue };
        let time = calendar.working_time_between(*entered + offset, *completed + offset);
        taken.entry(step.as_str()).or_default().push(time);
        if deadline.is_some_and(|d| *completed > d) {
            *late_count.entry(step.as_str()).or_default() += 1;
            late.push(LateStep {
                request: *request,
                application: application.clone(),
                step: step.clone(),
                taken: time,
                held_by: by.clone().unwrap_or_else(|| "-".to_owned()),
            });
        }
    }
    let steps = sop
        .steps
        .iter()
        .map(|step| {
            let mut times = taken.remove(step.no.as_str()).unwrap_or_default();
            times.sort();
            StepFigures {
                step: step.no.clone(),
                description: step.description.clone(),
                count: times.len(),
                median: quantile(&times, 0.5),
                p90: quantile(&times, 0.9),
                standard: step.time,
                limit: limit(&step.time, day),
                late: late_count.get(step.no.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();

    let open: Vec<(RequestId, String, String, Option<NaiveDateTime>)> = request_steps::table
        .inner_join(requests::table)
        .filter(requests::office_id.eq(office))
        .filter(request_steps::entered_at.lt(to))
        .filter(
            request_steps::completed_at
                .is_null()
                .or(request_steps::completed_at.ge(to)),
        )
        .filter(request_steps::deadline_at.lt(to))
        .order(request_steps::deadline_at)
        .select((
            request_steps::request_id,
            requests::application_name,
            request_steps::step_no,
            request_steps::deadline_at,
        ))
        .load(conn)?;
    let mut holders: HashMap<String, Vec<String>> = HashMap::new();
    let mut overdue = Vec::with_capacity(open.len());
    for (request, application, step, deadline) in open {
        let Some(deadline) = deadline else { continue };
        if !holders.contains_key(&step) {
            let roles = sop
                .step(&step)
                .map(|s| s.actors.clone())
                .unwrap_or_default();
            let names: Vec<String> = person_roles::table
                .inner_join(people::table)
                .filter(person_roles::office_id.eq(office))
                .filter(person_roles::role.eq_any(&roles))
                .order(people::full_name)
                .select(people::full_name)
                .distinct()
                .load(conn)?;
            holders.insert(step.clone(), names);
        }
        overdue.push(Overdue {
            request,
            application,
            held_by: holders.get(&step).cloned().unwrap_or_default(),
            step,
            deadline: deadline + offset,
        });
    }
    Ok(SlaReport {
        period: period.label(),
        sop_number: sop.header.number.clone(),
        steps,
        late,
        overdue,
        day,
    })
}

impl SlaReport {
    /// The report's own fields for the `laporan_sla` template (the letter's header fields,
    /// number and signers are the caller's).
    pub fn fields(&self) -> serde_json::Value {
        let text = |d: Option<Duration>| d.map_or("-".to_owned(), |d| duration_text(d, self.day));
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "step": s.step,
                    "description": s.description,
                    "count": s.count,
                    "median": text(s.median),
                    "p90": text(s.p90),
                    "standard": s.standard.to_string(),
                    "late": s.late,
                })
            })
            .collect();
        let late: Vec<serde_json::Value> = self
            .late
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::json!({
                    "no": i + 1,
                    "application": l.application,
                    "step": l.step,
                    "taken": duration_text(l.taken, self.day),
                    "held_by": l.held_by,
                })
            })
            .collect();
        let overdue: Vec<serde_json::Value> = self
            .overdue
            .iter()
            .enumerate()
            .map(|(i, o)| {
                serde_json::json!({
                    "no": i + 1,
                    "application": o.application,
                    "step": o.step,
                    "deadline": o.deadline.format("%d-%m-%Y %H:%M").to_string(),
                    "held_by": if o.held_by.is_empty() { "-".to_owned() } else { o.held_by.join(", ") },
                })
            })
            .collect();
        // The chart: each step's median and 90th percentile as a share of its standard (steps
        // of minutes and of days side by side), the standard at 100.
        let chart: Vec<serde_json::Value> = self
            .steps
            .iter()
            .filter_map(|s| {
                let limit = s.limit.filter(|l| s.count > 0 && l.num_seconds() > 0)?;
                let share = |d: Option<Duration>| {
                    d.map_or(0.0, |d| {
                        (1000.0 * d.num_seconds() as f64 / limit.num_seconds() as f64).round()
                            / 10.0
                    })
                };
                Some(serde_json::json!({
                    "label": format!("Langkah {}", s.step),
                    "median": share(s.median),
                    "p90": share(s.p90),
                    "standard": 100,
                }))
            })
            .collect();
        serde_json::json!({
            "period": self.period,
            "sop_number": self.sop_number.clone().unwrap_or_else(|| "-".to_owned()),
            "steps": steps,
            "late_steps": late,
            "overdue_count": self.overdue.len(),
            "overdue": overdue,
            "chart_steps": chart,
        })
    }
}
