//! `naskah archive check`: an export verified offline, as its receiver would, with nothing but
//! the ZIP (and the roots the receiver trusts): the two manifests say the same; every file is
//! listed and every listed file is there, with its SHA-256 and size; each audit entry still has
//! its hash and links to the one before it where both are present, and records each revision
//! with the same SHA-256; every signed revision's signatures are intact with no disallowed
//! change after them (and trusted, when roots are given). The ZIP is read within limits.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Seek};

use super::export::{MANIFEST_JSON, MANIFEST_XML, Manifest};
use crate::verify::sandbox::Sandbox;
use crate::verify::{self, ChangesAfter, Integrity, Trust};

/// The most files an export may hold.
const MAX_FILES: usize = 200_000;
/// The largest manifest read.
const MAX_MANIFEST: u64 = 256 << 20;
/// Signed revisions verified at a time (their bytes are held in memory together).
const BATCH: usize = 64;

/// What the check found: nothing in `problems` means the export holds.
#[derive(Debug, Default)]
pub struct Checked {
    pub letters: usize,
    pub files: usize,
    pub verified: usize,
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("not a readable ZIP: {0}")]
    Zip(String),
    #[error("{0}: {1}")]
    Manifest(&'static str, String),
}

/// Checks the export read from `input`, its signed revisions verified in `sandbox` (against
/// its roots when there are any).
pub fn check(input: impl Read + Seek, sandbox: &Sandbox) -> Result<Checked, CheckError> {
    let mut zip = zip::ZipArchive::new(input).map_err(|e| CheckError::Zip(e.to_string()))?;
    if zip.len() > MAX_FILES {
        return Err(CheckError::Zip(format!(
            "{} files (at most {MAX_FILES})",
            zip.len()
        )));
    }
    let json = read_entry(&mut zip, MANIFEST_JSON, MAX_MANIFEST)
        .map_err(|e| CheckError::Manifest(MANIFEST_JSON, e))?;
    let xml = read_entry(&mut zip, MANIFEST_XML, MAX_MANIFEST)
        .map_err(|e| CheckError::Manifest(MANIFEST_XML, e))?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| CheckError::Manifest(MANIFEST_JSON, e.to_string()))?;
    let from_xml: Manifest = std::str::from_utf8(&xml)
        .map_err(|e| e.to_string())
        .and_then(|text| quick_xml::de::from_str(text).map_err(|e| e.to_string()))
        .map_err(|e| CheckError::Manifest(MANIFEST_XML, e))?;

    let mut checked = Checked {
        letters: manifest.letters.len(),
        ..Checked::default()
    };
    if from_xml != manifest {
        checked
            .problems
            .push(format!("{MANIFEST_XML} and {MANIFEST_JSON} differ"));
    }
    if manifest.format != super::export::FORMAT {
        checked
            .problems
            .push(format!("unknown manifest format '{}'", manifest.format));
    }

    // Files: listed and present, each with its hash.
    let mut present = BTreeSet::new();
    for name in zip.file_names() {
        match name {
            Ok(name) if name != MANIFEST_JSON && name != MANIFEST_XML => {
                present.insert(name.into_owned());
            }
            Ok(_) => {}
            Err(e) => checked
                .problems
                .push(format!("a file name that does not read: {e}")),
        }
    }
    let listed: BTreeSet<String> = manifest
        .letters
        .iter()
        .flat_map(|l| l.revisions.iter().map(|r| r.file.clone()))
        .collect();
    for extra in present.difference(&listed) {
        checked
            .problems
            .push(format!("{extra}: in the ZIP, not in the manifest"));
    }
    for absent in listed.difference(&present) {
        checked
            .problems
            .push(format!("{absent}: in the manifest, not in the ZIP"));
    }

    // The audit entries: each hash, each link between neighbours, each revision recorded.
    let mut previous: HashMap<i64, &super::export::AuditEntry> = HashMap::new();
    let mut recorded: HashMap<(i64, i32), String> = HashMap::new();
    for entry in &manifest.audit {
        match entry.entry() {
            Some(e) if e.computed_hash() == entry.hash => {}
            _ => checked.problems.push(format!(
                "audit entry {}: its content does not match its hash",
                entry.id
            )),
        }
        if let Some(before) = previous.insert(entry.chain, entry)
            && before.seq() + 1 == entry.seq()
            && entry.prev_hash != before.hash
        {
            checked.problems.push(format!(
                "audit entry {}: its link is not the hash of entry {}",
                entry.id, before.id
            ));
        }
        if matches!(entry.action.as_str(), "letter.created" | "letter.revised") {
            let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or_default();
            let letter = entry
                .subject
                .strip_prefix("letter:")
                .and_then(|id| id.parse::<i64>().ok());
            let revision = detail["revision"]
                .as_i64()
                .and_then(|r| i32::try_from(r).ok());
            if let (Some(letter), Some(revision), Some(hash)) =
                (letter, revision, detail["sha256"].as_str())
            {
                recorded.insert((letter, revision), hash.to_owned());
            }
        }
    }

    // Each revision's bytes, and the signed ones verified in batches.
    let mut signed: Vec<(String, Vec<u8>)> = Vec::new();
    for letter in &manifest.letters {
        for revision in &letter.revisions {
            let at = format!("letter {} revision {}", letter.id, revision.revision);
            match recorded.get(&(letter.id, revision.revision)) {
                Some(hash) if *hash == revision.sha256 => {}
                Some(_) => checked
                    .problems
                    .push(format!("{at}: the audit log recorded another SHA-256")),
                None => checked
                    .problems
                    .push(format!("{at}: not in the exported audit entries")),
            }
            if !present.contains(&revision.file) {
                continue;
            }
            let max = crate::signing::pdf::MAX_INPUT as u64;
            let bytes = match read_entry(&mut zip, &revision.file, max) {
                Ok(bytes) => bytes,
                Err(e) => {
                    checked.problems.push(format!("{}: {e}", revision.file));
                    continue;
                }
            };
            checked.files += 1;
            if crate::digest::sha256_hex(&bytes) != revision.sha256
                || bytes.len() as i64 != revision.size
            {
                checked.problems.push(format!(
                    "{}: does not match the SHA-256 or size in the manifest",
                    revision.file
                ));
                continue;
            }
            if matches!(
                revision.purpose.as_str(),
                "paraf" | "signature" | "ltv" | "timestamp"
            ) {
                signed.push((revision.file.clone(), bytes));
                if signed.len() == BATCH {
                    verify_batch(&mut signed, sandbox, &mut checked);
                }
            }
        }
    }
    verify_batch(&mut signed, sandbox, &mut checked);
    Ok(checked)
}

/// Verifies the signed revisions gathered so far, and lets them go.
fn verify_batch(signed: &mut Vec<(String, Vec<u8>)>, sandbox: &Sandbox, checked: &mut Checked) {
    if signed.is_empty() {
        return;
    }
    let batch: Vec<(String, Vec<u8>)> = std::mem::take(signed);
    let reports = sandbox.verify_many(batch.len(), &|i| Ok(batch[i].1.clone()));
    for ((file, _), outcome) in batch.iter().zip(reports) {
        checked.verified += 1;
        let report = match outcome {
            Ok(report) => report,
            Err(e) => {
                checked.problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        if report.signatures.is_empty() {
            checked.problems.push(format!("{file}: no signature"));
        }
        for s in &report.signatures {
            let mut wrong = Vec::new();
            if s.integrity != Integrity::Intact {
                wrong.push("not intact".to_owned());
            }
            if s.changes_after == ChangesAfter::Disallowed {
                wrong.push("disallowed changes after it".to_owned());
            }
            if sandbox.has_roots() && s.trust != Trust::Trusted {
                wrong.push(format!("trust {}", verify::name(&s.trust)));
            }
            if !wrong.is_empty() {
                checked.problems.push(format!(
                    "{file}: signature {}: {}",
                    s.field,
                    wrong.join(", ")
                ));
            }
        }
    }
}

/// The entry `name`, at most `max` bytes.
fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| e.to_string())?;
    if entry.size() > max {
        return Err(format!("{} bytes (at most {max})", entry.size()));
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("more than {max} bytes"));
    }
    Ok(bytes)
}
