//! Who sees which requests: an applicant their own, staff their office's, and the offices a
//! person may file at.

use diesel::prelude::*;

use super::{Request, Result, current_sop};
use crate::db::DbConn;
use crate::db::schema::{person_roles, requests};
use crate::ids::{OfficeId, PersonId, RequestId};

/// Whether `roles` (a person's roles at `office`) are only the applicant roles of the office's
/// SOP: such a person sees their own requests and nothing else of the office's work.
pub fn applicant_only(conn: &mut DbConn, office: OfficeId, roles: &[String]) -> Result<bool> {
    let (_, sop) = current_sop(conn, office)?;
    Ok(roles
        .iter()
        .all(|role| sop.roles.iter().any(|r| r.applicant && r.id == *role)))
}

/// The most requests one listing returns.
pub const MAX_LISTED: i64 = 500;

/// The requests `person` may see, newest first, at most `limit` (up to [`MAX_LISTED`]) with
/// ids below `before`: in each office where they hold a role, all of its requests, except
/// where their roles there are only the SOP's applicant roles: then their own.
pub fn visible_requests(
    conn: &mut DbConn,
    person: PersonId,
    limit: i64,
    before: Option<RequestId>,
) -> Result<Vec<Request>> {
    let reach = reach(conn, person)?;
    requests_within(conn, person, &reach, limit, before)
}

/// Where a person's sight reaches: the offices whose work they see whole (they hold a role
/// there other than only the applicant's), and those where they see their own requests.
#[derive(Debug, Default)]
pub struct Reach {
    pub whole: Vec<OfficeId>,
    pub own: Vec<OfficeId>,
}

/// `person`'s [`Reach`], offices in id order.
pub fn reach(conn: &mut DbConn, person: PersonId) -> Result<Reach> {
    let offices: Vec<OfficeId> = person_roles::table
        .filter(person_roles::person_id.eq(person))
        .select(person_roles::office_id)
        .distinct()
        .order(person_roles::office_id)
        .load(conn)?;
    let mut reach = Reach::default();
    for office in offices {
        let roles = crate::people::roles_in(conn, person, office)?;
        if applicant_only(conn, office, &roles)? {
            reach.own.push(office);
        } else {
            reach.whole.push(office);
        }
    }
    Ok(reach)
}

/// [`visible_requests`] for a reach already read.
pub fn requests_within(
    conn: &mut DbConn,
    person: PersonId,
    reach: &Reach,
    limit: i64,
    before: Option<RequestId>,
) -> Result<Vec<Request>> {
    let (whole, own) = (reach.whole.clone(), reach.own.clone());
    // Each side only when it has offices: an OR with an empty side keeps both databases from
    // reading through the office's index, and they walk the whole table by id instead. One
    // office (the usual case) is asked for with `=`: PostgreSQL reads `office_id = ANY(…)`
    // through the primary key, newest first, past every other office's requests.
    let mut query = requests::table.into_boxed();
    query = match (whole.as_slice(), own.is_empty()) {
        ([one], true) => query.filter(requests::office_id.eq(*one)),
        (_, true) => query.filter(requests::office_id.eq_any(whole)),
        ([], false) => query
            .filter(requests::office_id.eq_any(own))
            .filter(requests::applicant_id.eq(person)),
        _ => query.filter(
            requests::office_id.eq_any(whole).or(requests::office_id
                .eq_any(own)
                .and(requests::applicant_id.eq(person))),
        ),
    };
    let mut query = query
        .order(requests::id.desc())
        .limit(limit.clamp(1, MAX_LISTED))
        .select(Request::as_select());
    if let Some(before) = before {
        query = query.filter(requests::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Whether `person` may file a request anywhere: they hold an applicant role of some office's
/// SOP.
pub fn files_anywhere(conn: &mut DbConn, person: PersonId) -> Result<bool> {
    let held: Vec<(OfficeId, String)> = person_roles::table
        .filter(person_roles::person_id.eq(person))
        .select((person_roles::office_id, person_roles::role))
        .load(conn)?;
    for (office, role) in held {
        if let Ok((_, sop)) = current_sop(conn, office)
            && sop.role(&role).is_some_and(|r| r.applicant)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
