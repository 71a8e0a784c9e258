//! An office's archive exported in the background for the person who asked (its staff,
//! auditors included), with the progress in a job and the ZIP kept under the data directory
//! (`exports/job-ID.zip`) for them to download: written beside its place and moved there only
//! when complete, so a half-written file is never offered.

use std::path::{Path, PathBuf};

use super::export::{Selection, export_with_progress};
use crate::db::Db;
use crate::ids::PersonId;
use crate::jobs::{self, Outcome};

/// How often, in letters, the job's progress is written.
const EVERY: usize = 10;

/// Where the ZIP of export job `job` is kept once complete.
pub fn zip_path(data_dir: &Path, job: i64) -> PathBuf {
    data_dir.join("exports").join(format!("job-{job}.zip"))
}

/// Starts exporting `selection` for `person`; returns the job's id at once.
pub fn start(
    db: Db,
    data_dir: PathBuf,
    person: PersonId,
    selection: Selection,
) -> Result<i64, crate::db::DbError> {
    let job = jobs::start(&mut *db.get()?, person, jobs::EXPORT, 0, crate::db::now())?;
    jobs::run_in_background(db, job, move |db| {
        Ok(run(db, &data_dir, job, person, &selection))
    })?;
    Ok(job)
}

fn run(
    db: &Db,
    data_dir: &Path,
    job: i64,
    person: PersonId,
    selection: &Selection,
) -> Result<(), String> {
    let target = zip_path(data_dir, job);
    let dir = target.parent().unwrap_or(data_dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("folder ekspor tidak dapat dibuat: {e}"))?;
    let mut partial = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("berkas ekspor tidak dapat dibuat: {e}"))?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    // The progress goes through a connection of its own: the export reads through `conn`.
    let mut progress_conn = db.get().map_err(|e| e.to_string())?;
    let mut told_total = false;
    let mut progress = |written: usize, total: usize| {
        if !told_total {
            let _ = jobs::set_total(&mut progress_conn, job, total);
            told_total = true;
        }
        if written.is_multiple_of(EVERY) || written == total {
            let _ = jobs::advance(&mut progress_conn, job, written, crate::db::now());
        }
    };
    let exported = export_with_progress(
        &mut conn,
        selection,
        Some(person),
        partial.as_file_mut(),
        &mut progress,
    )
    .map_err(|e| match e {
        super::export::ExportError::Empty => "tidak ada surat pada pilihan ini".to_owned(),
        other => other.to_string(),
    })?;
    partial
        .persist(&target)
        .map_err(|e| format!("berkas ekspor tidak dapat disimpan: {}", e.error))?;
    jobs::record(
        &mut conn,
        job,
        &Outcome {
            letter: None,
            name: format!(
                "{} surat, {} revisi; manifest SHA-256 {}",
                exported.letters, exported.revisions, exported.manifest_sha256
            ),
            ok: true,
            message: None,
        },
        crate::db::now(),
    )
    .map_err(|e| e.to_string())?;
    // `record` counted the outcome as one more done: the letters are the count.
    jobs::advance(&mut conn, job, exported.letters, crate::db::now()).map_err(|e| e.to_string())
}
