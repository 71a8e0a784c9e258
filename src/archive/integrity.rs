//! `naskah audit verify`: the audit log's chain ([`crate::audit::verify`]) and the archive
//! against it. Each stored PDF must still have the SHA-256 and size stored with it, and that
//! SHA-256 must be the one the chained log recorded when the revision was stored: a PDF
//! replaced together with its hash column shows, and so does a revision removed or slipped in.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{audit_log, letter_revisions};
use crate::digest::sha256_hex;
use crate::ids::LetterId;

/// A revision of the archive that does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flaw {
    /// The stored PDF no longer has the SHA-256 or the size stored with it.
    Altered { letter: LetterId, revision: i32 },
    /// The stored SHA-256 is not the one the audit log recorded when the revision was stored.
    Replaced {
        letter: LetterId,
        revision: i32,
        logged: String,
        stored: String,
    },
    /// The audit log records a revision the archive no longer holds.
    Missing { letter: LetterId, revision: i32 },
    /// The archive holds a revision the audit log never recorded.
    Unrecorded { letter: LetterId, revision: i32 },
}

impl std::fmt::Display for Flaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flaw::Altered { letter, revision } => write!(
                f,
                "letter {letter} revision {revision}: the PDF does not match its stored SHA-256 or size"
            ),
            Flaw::Replaced {
                letter,
                revision,
                logged,
                stored,
            } => write!(
                f,
                "letter {letter} revision {revision}: stored SHA-256 {stored}, the audit log recorded {logged}"
            ),
            Flaw::Missing { letter, revision } => write!(
                f,
                "letter {letter} revision {revision}: recorded in the audit log, gone from the archive"
            ),
            Flaw::Unrecorded { letter, revision } => write!(
                f,
                "letter {letter} revision {revision}: in the archive, never recorded in the audit log"
            ),
        }
    }
}

/// How much was checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub revisions: u64,
    pub bytes: u64,
}

/// Revisions read per query: PDFs are tens of kilobytes, so a page stays within a few
/// megabytes however large the archive.
const PAGE: i64 = 100;

/// Checks every archived revision; the flaws in the order of the archive, then the revisions
/// the log records and the archive lacks.
pub fn check(conn: &mut DbConn) -> QueryResult<(Vec<Flaw>, Checked)> {
    let mut logged = logged_revisions(conn)?;
    let mut flaws = Vec::new();
    let mut checked = Checked::default();
    let mut after = 0i64;
    loop {
        let page: Vec<(i64, LetterId, i32, String, i64, Vec<u8>)> = letter_revisions::table
            .filter(letter_revisions::id.gt(after))
            .order(letter_revisions::id)
            .limit(PAGE)
            .select((
                letter_revisions::id,
                letter_revisions::letter_id,
                letter_revisions::revision,
                letter_revisions::sha256,
                letter_revisions::size,
                letter_revisions::pdf,
            ))
            .load(conn)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.0;
        for (_, letter, revision, stored, size, pdf) in page {
            checked.revisions += 1;
            checked.bytes += pdf.len() as u64;
            if sha256_hex(&pdf) != stored || size != pdf.len() as i64 {
                flaws.push(Flaw::Altered { letter, revision });
            }
            match logged.remove(&(letter, revision)) {
                Some(hash) if hash == stored => {}
                Some(hash) => flaws.push(Flaw::Replaced {
                    letter,
                    revision,
                    logged: hash,
                    stored,
                }),
                None => flaws.push(Flaw::Unrecorded { letter, revision }),
            }
        }
    }
    let mut missing: Vec<(LetterId, i32)> = logged.into_keys().collect();
    missing.sort();
    flaws.extend(
        missing
            .into_iter()
            .map(|(letter, revision)| Flaw::Missing { letter, revision }),
    );
    Ok((flaws, checked))
}

/// The revisions the audit log recorded as stored, with their SHA-256: `letter.created` (the
/// first) and `letter.revised` (each after it).
fn logged_revisions(conn: &mut DbConn) -> QueryResult<HashMap<(LetterId, i32), String>> {
    let entries: Vec<(String, String)> = audit_log::table
        .filter(audit_log::action.eq_any(["letter.created", "letter.revised"]))
        .order(audit_log::id)
        .select((audit_log::subject, audit_log::detail))
        .load(conn)?;
    let mut logged = HashMap::with_capacity(entries.len());
    for (subject, detail) in entries {
        let letter = subject
            .strip_prefix("letter:")
            .and_then(|id| id.parse::<i64>().ok());
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let revision = detail["revision"]
            .as_i64()
            .and_then(|r| i32::try_from(r).ok());
        if let (Some(letter), Some(revision), Some(hash)) =
            (letter, revision, detail["sha256"].as_str())
        {
            logged.insert((LetterId(letter), revision), hash.to_owned());
        }
    }
    Ok(logged)
}

/// Everything `audit verify` found.
#[derive(Serialize)]
pub struct Findings {
    pub entries: i64,
    pub breaks: Vec<crate::audit::Break>,
    pub archive: Checked,
    pub flaws: Vec<Flaw>,
}

impl Findings {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty() && self.flaws.is_empty()
    }
}

/// The whole check, as `naskah audit verify` and the daily job run it: the audit chain and
/// the archive.
pub fn findings(conn: &mut DbConn) -> QueryResult<Findings> {
    let entries: i64 = crate::db::schema::audit_log::table
        .count()
        .get_result(conn)?;
    let breaks = crate::audit::verify(conn)?;
    let (flaws, archive) = check(conn)?;
    Ok(Findings {
        entries,
        breaks,
        archive,
        flaws,
    })
}
