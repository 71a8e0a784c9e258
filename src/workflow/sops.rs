//! An office's SOP as the workflow keeps it: installed as a new version when its text changes,
//! read back by version, and the one in force.

use diesel::prelude::*;

use super::{Result, WorkflowError};
use crate::audit::{self, Event};
use crate::db::schema::sop_versions;
use crate::db::{DbConn, write_transaction};
use crate::digest::sha256_hex;
use crate::ids::{OfficeId, PersonId, SopVersionId};
use crate::sop::Sop;

/// Stores `text` as `office`'s SOP when it differs from the office's current one; returns the
/// version in force afterwards.
pub fn install_sop(
    conn: &mut DbConn,
    office: OfficeId,
    text: &str,
    actor: Option<PersonId>,
) -> Result<SopVersionId> {
    let sop = Sop::from_xml(text).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        WorkflowError::InvalidSop(list.join("; "))
    })?;
    let sha256 = sha256_hex(text.as_bytes());
    write_transaction(conn, |conn| {
        let latest: Option<(SopVersionId, i32, String)> = sop_versions::table
            .filter(sop_versions::office_id.eq(office))
            .order(sop_versions::version.desc())
            .select((
                sop_versions::id,
                sop_versions::version,
                sop_versions::sha256,
            ))
            .first(conn)
            .optional()?;
        if let Some((id, _, existing)) = &latest
            && *existing == sha256
        {
            return Ok(*id);
        }
        let version = latest.map_or(1, |(_, v, _)| v + 1);
        let id: SopVersionId = diesel::insert_into(sop_versions::table)
            .values((
                sop_versions::office_id.eq(office),
                sop_versions::version.eq(version),
                sop_versions::code.eq(&sop.id),
                sop_versions::title.eq(&sop.header.title),
                sop_versions::definition.eq(text),
                sop_versions::sha256.eq(&sha256),
                sop_versions::created_at.eq(crate::db::now()),
            ))
            .returning(sop_versions::id)
            .get_result(conn)?;
        audit::append(
            conn,
            Event {
                actor,
                office: Some(office),
                action: "sop.installed",
                subject: format!("sop_version:{id}"),
                detail: serde_json::json!({ "sop": sop.id, "version": version, "sha256": sha256 }),
            },
        )?;
        Ok(id)
    })
}

/// The SOP stored as `version`. A stored version never changes, so each definition is parsed
/// once per process and kept by its SHA-256 (not by its id: one process may open several
/// databases).
pub fn sop_version(conn: &mut DbConn, version: SopVersionId) -> Result<Sop> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static PARSED: OnceLock<Mutex<HashMap<String, Sop>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| Mutex::new(HashMap::new()));
    let sha256: String = sop_versions::table
        .find(version)
        .select(sop_versions::sha256)
        .first(conn)?;
    if let Some(sop) = parsed.lock().ok().and_then(|p| p.get(&sha256).cloned()) {
        return Ok(sop);
    }
    let text: String = sop_versions::table
        .find(version)
        .select(sop_versions::definition)
        .first(conn)?;
    let sop = Sop::from_xml(&text).map_err(|problems| {
        WorkflowError::InvalidSop(format!(
            "stored version {version}: {} problem(s)",
            problems.len()
        ))
    })?;
    if sha256_hex(text.as_bytes()) == sha256
        && let Ok(mut parsed) = parsed.lock()
    {
        parsed.insert(sha256, sop.clone());
    }
    Ok(sop)
}

/// The office's SOP in force: the newest version.
pub fn current_sop(conn: &mut DbConn, office: OfficeId) -> Result<(SopVersionId, Sop)> {
    let version: SopVersionId = sop_versions::table
        .filter(sop_versions::office_id.eq(office))
        .order(sop_versions::version.desc())
        .select(sop_versions::id)
        .first(conn)
        .optional()?
        .ok_or(WorkflowError::NoSop)?;
    Ok((version, sop_version(conn, version)?))
}
