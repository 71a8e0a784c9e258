//! Many files verified on worker threads, each file within a time limit: a crafted file that
//! would take the reader too long ends with [`VerifyError::TimedOut`], and one that makes it
//! panic with an error. Workers take the next file themselves and hand nothing back and forth
//! per file; the calling thread only watches the clock. A worker stuck past the limit is
//! abandoned (a thread cannot be stopped from outside) and a new one takes its place.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::{Report, Roots, VerifyError, verify};

/// Reads file `index` of the batch.
pub type Source = dyn Fn(usize) -> Result<Arc<Vec<u8>>, VerifyError> + Send + Sync;

/// What the workers share.
struct Batch {
    source: Box<Source>,
    roots: Arc<Roots>,
    count: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    results: Vec<OnceLock<Result<Report, VerifyError>>>,
    started: Instant,
    /// Who waits for the last result.
    caller: std::thread::Thread,
}

/// One worker's progress, watched by the caller.
#[derive(Default)]
struct Progress {
    /// 1 + the index of the file being verified; 0 when between files.
    current: AtomicUsize,
    /// When it started on it, in microseconds since the batch started.
    since: AtomicU64,
    /// Set when the caller gave up on it: it stops after its current file.
    retired: AtomicBool,
}

impl Batch {
    /// Records a file's outcome, unless the caller already gave up on it.
    fn finish(&self, index: usize, outcome: Result<Report, VerifyError>) {
        if self.results[index].set(outcome).is_ok()
            && self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.count
        {
            self.caller.unpark();
        }
    }

    fn work(&self, progress: &Progress) {
        while !progress.retired.load(Ordering::Acquire) {
            let index = self.next.fetch_add(1, Ordering::AcqRel);
            if index >= self.count {
                break;
            }
            let micros = self.started.elapsed().as_micros() as u64;
            progress.since.store(micros, Ordering::Release);
            progress.current.store(index + 1, Ordering::Release);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                (self.source)(index).and_then(|pdf| verify(&pdf, &self.roots))
            }))
            .unwrap_or_else(|_| Err(VerifyError::Unreadable("pembaca PDF gagal".into())));
            progress.current.store(0, Ordering::Release);
            self.finish(index, outcome);
        }
    }
}

fn spawn(batch: &Arc<Batch>) -> Result<Arc<Progress>, VerifyError> {
    let progress = Arc::new(Progress::default());
    let (batch, mine) = (batch.clone(), progress.clone());
    std::thread::Builder::new()
        .name("verify".into())
        .spawn(move || batch.work(&mine))
        .map_err(|e| VerifyError::Unreadable(e.to_string()))?;
    Ok(progress)
}

/// Verifies `count` files, read by `source`, on `workers` threads, each file given up after
/// `limit`. The outcomes come in the files' order.
pub fn verify_many(
    count: usize,
    source: Box<Source>,
    roots: Arc<Roots>,
    workers: usize,
    limit: Duration,
) -> Vec<Result<Report, VerifyError>> {
    if count == 0 {
        return Vec::new();
    }
    let batch = Arc::new(Batch {
        source,
        roots,
        count,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        results: (0..count).map(|_| OnceLock::new()).collect(),
        started: Instant::now(),
        caller: std::thread::current(),
    });
    let mut crew: Vec<Arc<Progress>> = Vec::new();
    for _ in 0..workers.clamp(1, count) {
        match spawn(&batch) {
            Ok(progress) => crew.push(progress),
            Err(error) if crew.is_empty() => {
                return (0..count)
                    .map(|_| Err(VerifyError::Unreadable(error.to_string())))
                    .collect();
            }
            Err(_) => break,
        }
    }
    // Look at the clock often enough that a stuck file ends within a tenth of the limit.
    let tick = (limit / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let limit_micros = limit.as_micros() as u64;
    while batch.done.load(Ordering::Acquire) < count {
        std::thread::park_timeout(tick);
        let now = batch.started.elapsed().as_micros() as u64;
        for slot in &mut crew {
            let current = slot.current.load(Ordering::Acquire);
            let since = slot.since.load(Ordering::Acquire);
            if current == 0 || now.saturating_sub(since) < limit_micros {
                continue;
            }
            slot.retired.store(true, Ordering::Release);
            batch.finish(current - 1, Err(VerifyError::TimedOut(limit.as_secs())));
            match spawn(&batch) {
                Ok(fresh) => *slot = fresh,
                Err(error) => {
                    // No thread to be had: what is left ends with the reason.
                    for result in &batch.results {
                        let _ = result.set(Err(VerifyError::Unreadable(error.to_string())));
                    }
                    batch.done.store(count, Ordering::Release);
                }
            }
        }
    }
    batch
        .results
        .iter()
        .map(|r| {
            r.get()
                .cloned()
                .unwrap_or_else(|| Err(VerifyError::Unreadable("tidak diperiksa".into())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_file_times_out_a_panic_is_an_error_and_the_rest_go_on() {
        let source: Box<Source> = Box::new(|index| match index {
            1 => {
                std::thread::sleep(Duration::from_secs(30));
                Ok(Arc::new(Vec::new()))
            }
            3 => panic!("a reader bug"),
            _ => Ok(Arc::new(b"%PDF-1.7\n%%EOF\n".to_vec())),
        });
        let results = verify_many(
            6,
            source,
            Arc::new(Roots::default()),
            2,
            Duration::from_millis(200),
        );
        assert_eq!(results.len(), 6);
        assert!(matches!(results[1], Err(VerifyError::TimedOut(_))));
        assert!(matches!(&results[3], Err(VerifyError::Unreadable(why)) if why.contains("gagal")));
        for index in [0, 2, 4, 5] {
            assert!(
                matches!(results[index], Err(VerifyError::Unreadable(_))),
                "file {index} was read and judged: {:?}",
                results[index].as_ref().err()
            );
        }
    }
}
