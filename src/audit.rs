//! The audit log: who did what, when, to which object. Append-only (the database refuses updates
//! and deletes), and hash-chained: every entry carries the hash of the one before it, and its
//! own hash covers its content and that link, so an entry changed, removed or slipped in shows
//! as a break in [`verify`].
//!
//! Entries are numbered 1, 2, 3, … without gaps under a lock held until the appending
//! transaction ends, so the chain's order is the order of commits.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::audit_log;
use crate::db::{DbConn, lock_for_transaction, lock_keys};
use crate::digest::sha256_hex;
use crate::ids::{OfficeId, PersonId};

/// The link before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the caller describes it.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub actor: Option<PersonId>,
    pub office: Option<OfficeId>,
    /// A dotted verb: `office.created`, `number.issued`, `letter.signed`, …
    pub action: &'a str,
    /// The object acted on: `letter:12`, `register:3`, …
    pub subject: String,
    /// Whatever else an auditor needs to understand the entry; never a secret.
    pub detail: serde_json::Value,
}

/// An entry as stored.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub actor_id: Option<PersonId>,
    pub office_id: Option<OfficeId>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash this entry must carry: SHA-256 over its link and content, in a JSON array
    /// (unambiguous however the fields are split).
    pub fn computed_hash(&self) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let content = serde_json::json!([
            self.prev_hash,
            self.id,
            at,
            self.actor_id,
            self.office_id,
            self.action,
            self.subject,
            self.detail,
        ]);
        sha256_hex(content.to_string().as_bytes())
    }
}

/// Appends `event`. Call it inside the write transaction that makes the change it records, so
/// that the change and its record commit together or not at all.
pub fn append(conn: &mut DbConn, event: Event<'_>) -> QueryResult<Entry> {
    lock_for_transaction(conn, lock_keys::AUDIT_LOG)?;
    append_locked(conn, event)
}

/// [`append`] in a transaction that already holds the audit log's lock
/// ([`lock_keys::AUDIT_LOG`]): numbering takes it in the statement that takes its counter.
pub fn append_locked(conn: &mut DbConn, event: Event<'_>) -> QueryResult<Entry> {
    let last: Option<(i64, String)> = audit_log::table
        .order(audit_log::id.desc())
        .select((audit_log::id, audit_log::hash))
        .first(conn)
        .optional()?;
    let (id, prev_hash) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let mut entry = Entry {
        id,
        at: crate::db::now(),
        actor_id: event.actor,
        office_id: event.office,
        action: event.action.to_owned(),
        subject: event.subject,
        detail: event.detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.computed_hash();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(entry.id),
            audit_log::at.eq(entry.at),
            audit_log::actor_id.eq(entry.actor_id),
            audit_log::office_id.eq(entry.office_id),
            audit_log::action.eq(&entry.action),
            audit_log::subject.eq(&entry.subject),
            audit_log::detail.eq(&entry.detail),
            audit_log::prev_hash.eq(&entry.prev_hash),
            audit_log::hash.eq(&entry.hash),
        ))
        .execute(conn)?;
    Ok(entry)
}

/// A place where the chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Break {
    /// The entry's content no longer matches its hash.
    Altered { id: i64 },
    /// The entry's link does not name the hash of the entry before it.
    Unlinked { id: i64 },
    /// Entries between two that remain are gone.
    Missing { from: i64, to: i64 },
}

/// Entries read per query while verifying, so that a long log is checked in bounded memory.
const VERIFY_PAGE: i64 = 2_000;

/// Walks the whole chain and returns every break, in order; empty when the log is intact.
pub fn verify(conn: &mut DbConn) -> QueryResult<Vec<Break>> {
    let mut breaks = Vec::new();
    let mut previous: Option<(i64, String)> = None;
    loop {
        let after = previous.as_ref().map_or(0, |(id, _)| *id);
        let page: Vec<Entry> = audit_log::table
            .filter(audit_log::id.gt(after))
            .order(audit_log::id)
            .limit(VERIFY_PAGE)
            .select(Entry::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            let (expected_id, expected_link) = match &previous {
                Some((id, hash)) => (id + 1, hash.as_str()),
                None => (1, GENESIS),
            };
            if entry.id != expected_id {
                breaks.push(Break::Missing {
                    from: expected_id,
                    to: entry.id - 1,
                });
            } else if entry.prev_hash != expected_link {
                breaks.push(Break::Unlinked { id: entry.id });
            }
            if entry.computed_hash() != entry.hash {
                breaks.push(Break::Altered { id: entry.id });
            }
            previous = Some((entry.id, entry.hash.clone()));
        }
    }
    Ok(breaks)
}

/// An entry as an office's auditors read it: who (by username), and whether its content
/// still matches its own hash (the whole chain is `naskah audit verify`'s to check).
#[derive(Clone, Debug, Serialize)]
pub struct Read {
    #[serde(flatten)]
    pub entry: Entry,
    pub actor: Option<String>,
    pub intact: bool,
}

/// The newest `limit` entries of `office` (before entry `before`, when given), newest first.
pub fn of_office(
    conn: &mut DbConn,
    office: OfficeId,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Read>> {
    use crate::db::schema::people;
    let mut query = audit_log::table
        .left_join(people::table)
        .filter(audit_log::office_id.eq(office))
        .order(audit_log::id.desc())
        .limit(limit.clamp(1, 500))
        .select((Entry::as_select(), people::username.nullable()))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    Ok(query
        .load::<(Entry, Option<String>)>(conn)?
        .into_iter()
        .map(|(entry, actor)| Read {
            intact: entry.computed_hash() == entry.hash,
            entry,
            actor,
        })
        .collect())
}
