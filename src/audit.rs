//! The audit log: who did what, when, to which object. Append-only (the database refuses updates
//! and deletes), and hash-chained: every entry carries the hash of the one before it, and its
//! own hash covers its content and that link, so an entry changed, removed or slipped in shows
//! as a break in [`verify`].
//!
//! There is a chain per office, for what happens in it, and one for the deployment's own
//! events (chain 0, which also holds every entry written before the chains were split, as
//! they were). Each chain's entries are numbered 1, 2, 3, … (`seq`) without gaps under the
//! chain's own lock, held until the appending transaction ends: a chain's order is the order
//! of its commits, and offices append in parallel.

use std::collections::HashMap;

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
    /// Unique over all chains, in the order entries were written.
    pub id: i64,
    pub at: chrono::NaiveDateTime,
    pub actor_id: Option<PersonId>,
    pub office_id: Option<OfficeId>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// The chain: the office's id, or 0 for the deployment's own.
    pub chain: i64,
    /// The entry's place in its chain, from 1.
    pub seq: i64,
}

/// The chain an event of `office` goes to.
pub fn chain_of(office: Option<OfficeId>) -> i64 {
    office.map_or(0, |o| o.0)
}

impl Entry {
    /// The hash this entry must carry: SHA-256 over its link and content, in a JSON array
    /// (unambiguous however the fields are split).
    pub fn computed_hash(&self) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let content = serde_json::json!([
            self.prev_hash,
            self.seq,
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
    lock_for_transaction(conn, lock_keys::audit_chain(chain_of(event.office)))?;
    append_locked(conn, event)
}

/// [`append`] in a transaction that already holds the lock of the event's chain
/// ([`lock_keys::audit_chain`]): numbering takes it in the statement that takes its counter.
pub fn append_locked(conn: &mut DbConn, event: Event<'_>) -> QueryResult<Entry> {
    let chain = chain_of(event.office);
    let last: Option<(i64, String)> = audit_log::table
        .filter(audit_log::chain.eq(chain))
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    // PostgreSQL gives the id from its sequence, as chains append in parallel; SQLite's write
    // lock serialises every appender, so the next id is the largest plus one.
    let id = match conn {
        DbConn::Pg(_) => diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "nextval('audit_log_id_seq')",
        ))
        .get_result(conn)?,
        DbConn::Sqlite(_) => {
            let max: Option<i64> = audit_log::table
                .select(diesel::dsl::max(audit_log::id))
                .first(conn)?;
            max.unwrap_or(0) + 1
        }
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
        chain,
        seq,
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
            audit_log::chain.eq(entry.chain),
            audit_log::seq.eq(entry.seq),
        ))
        .execute(conn)?;
    Ok(entry)
}

/// A place where a chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The chain's office, by its code; `None` for the deployment's own chain.
    pub office: Option<String>,
    #[serde(flatten)]
    pub fault: Fault,
}

/// What is wrong at a place in a chain (entries named by their `seq` in it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The entry's content no longer matches its hash.
    Altered { seq: i64 },
    /// The entry's link does not name the hash of the entry before it.
    Unlinked { seq: i64 },
    /// Entries between two that remain are gone.
    Missing { from: i64, to: i64 },
    /// The chain ends before an entry a checkpoint recorded: its tail was cut.
    Truncated { from: i64, to: i64 },
    /// The entry a checkpoint recorded has another hash now: the chain was written again.
    Rewritten { seq: i64 },
}

/// The action of a checkpoint entry.
pub const CHECKPOINT: &str = "audit.checkpoint";

/// Records the head of every office's chain (its last `seq` and hash) in an entry of the
/// deployment's chain, so that a chain whose tail is later cut, or which is written again from
/// some entry on, no longer matches it ([`Fault::Truncated`], [`Fault::Rewritten`]). The daily
/// audit check makes one; `naskah audit checkpoint` makes one when asked. Call it in a write
/// transaction.
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<Entry> {
    let chains: Vec<i64> = audit_log::table
        .filter(audit_log::chain.ne(0))
        .select(audit_log::chain)
        .distinct()
        .order(audit_log::chain)
        .load(conn)?;
    let mut heads = Vec::with_capacity(chains.len());
    for chain in chains {
        // No chain lock: a head read as committed stays in the chain however it grows after,
        // and the offices keep numbering while the checkpoint is made.
        let (seq, hash): (i64, String) = audit_log::table
            .filter(audit_log::chain.eq(chain))
            .order(audit_log::seq.desc())
            .select((audit_log::seq, audit_log::hash))
            .first(conn)?;
        heads.push(serde_json::json!({ "chain": chain, "seq": seq, "hash": hash }));
    }
    append(
        conn,
        Event {
            actor: None,
            office: None,
            action: CHECKPOINT,
            subject: "audit".to_owned(),
            detail: serde_json::json!({ "heads": heads }),
        },
    )
}

/// What the checkpoints recorded, per chain: (seq, hash), in order of seq.
fn recorded_heads(conn: &mut DbConn) -> QueryResult<HashMap<i64, Vec<(i64, String)>>> {
    let details: Vec<String> = audit_log::table
        .filter(audit_log::chain.eq(0))
        .filter(audit_log::action.eq(CHECKPOINT))
        .select(audit_log::detail)
        .load(conn)?;
    let mut heads: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for detail in details {
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        for head in detail["heads"].as_array().into_iter().flatten() {
            if let (Some(chain), Some(seq), Some(hash)) = (
                head["chain"].as_i64(),
                head["seq"].as_i64(),
                head["hash"].as_str(),
            ) {
                heads.entry(chain).or_default().push((seq, hash.to_owned()));
            }
        }
    }
    for recorded in heads.values_mut() {
        recorded.sort();
        recorded.dedup();
    }
    Ok(heads)
}

/// Entries read per query while verifying, so that a long log is checked in bounded memory.
const VERIFY_PAGE: i64 = 2_000;

/// Walks every chain and returns every break, chain by chain (the deployment's first), in
/// order; empty when the log is intact.
pub fn verify(conn: &mut DbConn) -> QueryResult<Vec<Break>> {
    use crate::db::schema::offices;
    let mut recorded = recorded_heads(conn)?;
    let mut chains: Vec<i64> = audit_log::table
        .select(audit_log::chain)
        .distinct()
        .load(conn)?;
    // A chain cut down to nothing is still named by the checkpoints.
    chains.extend(recorded.keys().copied());
    chains.sort_unstable();
    chains.dedup();
    let mut breaks = Vec::new();
    for chain in chains {
        let heads = recorded.remove(&chain).unwrap_or_default();
        let faults = verify_chain(conn, chain, &heads)?;
        if faults.is_empty() {
            continue;
        }
        let office: Option<String> = if chain == 0 {
            None
        } else {
            let code: Option<String> = offices::table
                .find(OfficeId(chain))
                .select(offices::code)
                .first(conn)
                .optional()?;
            Some(code.unwrap_or_else(|| format!("#{chain}")))
        };
        breaks.extend(faults.into_iter().map(|fault| Break {
            office: office.clone(),
            fault,
        }));
    }
    Ok(breaks)
}

/// Walks one chain, comparing it with what the checkpoints recorded of it (`heads`, by seq).
fn verify_chain(conn: &mut DbConn, chain: i64, heads: &[(i64, String)]) -> QueryResult<Vec<Fault>> {
    let mut faults = Vec::new();
    let mut heads = heads.iter().peekable();
    let mut previous: Option<(i64, String)> = None;
    loop {
        let after = previous.as_ref().map_or(0, |(seq, _)| *seq);
        let page: Vec<Entry> = audit_log::table
            .filter(audit_log::chain.eq(chain))
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq)
            .limit(VERIFY_PAGE)
            .select(Entry::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            let (expected, expected_link) = match &previous {
                Some((seq, hash)) => (seq + 1, hash.as_str()),
                None => (1, GENESIS),
            };
            if entry.seq != expected {
                faults.push(Fault::Missing {
                    from: expected,
                    to: entry.seq - 1,
                });
            } else if entry.prev_hash != expected_link {
                faults.push(Fault::Unlinked { seq: entry.seq });
            }
            if entry.computed_hash() != entry.hash {
                faults.push(Fault::Altered { seq: entry.seq });
            }
            while let Some((seq, hash)) = heads.next_if(|(seq, _)| *seq <= entry.seq) {
                if *seq == entry.seq && *hash != entry.hash {
                    faults.push(Fault::Rewritten { seq: *seq });
                }
            }
            previous = Some((entry.seq, entry.hash.clone()));
        }
    }
    let last = previous.map_or(0, |(seq, _)| seq);
    if let Some(to) = heads.map(|(seq, _)| *seq).max() {
        faults.push(Fault::Truncated { from: last + 1, to });
    }
    Ok(faults)
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
