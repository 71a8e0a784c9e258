//! Untrusted PDFs are read in worker processes, never in the process that serves: a crafted
//! file can make a PDF reader allocate gigabytes from a few kilobytes (an object stream of
//! millions of tiny objects) or spin for minutes (a dictionary of millions of repeated keys),
//! and no budget kept by hand inside the reader can be proven to catch every such shape. A
//! process can: each worker runs `naskah verify-worker` under an address-space budget for its
//! data (`RLIMIT_DATA`: heap and anonymous mappings) and a CPU budget per file
//! (`RLIMIT_CPU`, raised before each file to what it has used plus the limit), and the caller
//! kills it when a file passes the time limit. A worker that dies takes only its own file with
//! it; the next file gets a fresh worker.
//!
//! Workers are kept between files (their certificate and chain caches stay warm), at most
//! [`Limits::workers`] at once: a caller that may not wait (a web request) is told
//! [`VerifyError::Busy`] when all are taken, one that may (the command line, an archive
//! check) waits for the next to come free.
//!
//! The protocol on the worker's standard input and output: first the roots (length-prefixed
//! PEM), whether revocation may be fetched (one octet) and the revocation grace in seconds
//! (eight, big-endian); then, for each file, a job tag, the file's
//! length and bytes; the answer is the length of a JSON document and the document.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Report, Roots, VerifyError};

/// The hidden subcommand a worker runs as.
pub const WORKER_COMMAND: &str = "verify-worker";

/// What one instance spends on untrusted PDFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of data (heap and anonymous mappings) one worker may hold.
    pub memory: u64,
    /// How long one file may take, in wall-clock time and in CPU time.
    pub time: Duration,
    /// How many files are read at once.
    pub workers: usize,
}

/// 192 MiB of data per worker: an honest letter of 20 MB needs well under half of it, and the
/// worker's whole resident size stays under 256 MB.
pub const DEFAULT_MEMORY: u64 = 192 << 20;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory: DEFAULT_MEMORY,
            time: super::TIME_LIMIT,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What a worker is asked to do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Verify = b'V' as isize,
    /// Verify the files at these paths (NUL between them), read by the worker itself, one
    /// answer each as it goes.
    VerifyFiles = b'B' as isize,
    Inspect = b'I' as isize,
}

/// What reading a PDF found, for accepting it as an attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspected {
    pub pages: usize,
    pub encrypted: bool,
}

/// A worker's answer.
#[derive(Serialize, Deserialize)]
enum Answer {
    Verified(Result<Report, VerifyError>),
    Inspected(Result<Inspected, VerifyError>),
}

/// Whether a caller waits for a worker when all are busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Yes,
    No,
}

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

#[derive(Default)]
struct Crew {
    idle: Vec<Worker>,
    running: usize,
    /// Callers waiting for a place: woken only when there are any (a wake-up is a system call).
    waiting: usize,
}

/// The worker processes of one instance.
pub struct Sandbox {
    program: PathBuf,
    roots_pem: Vec<u8>,
    fetch_revocation: bool,
    /// The grace on revocation data's times, in seconds.
    grace: i64,
    limits: Limits,
    crew: Mutex<Crew>,
    freed: Condvar,
    watchdog: Watchdog,
}

impl Sandbox {
    /// Workers run `program verify-worker` (the `naskah` binary: [`Sandbox::own`]).
    pub fn new(program: PathBuf, roots: &Roots, limits: Limits) -> Result<Sandbox, String> {
        Ok(Sandbox {
            program,
            roots_pem: roots.to_pem()?,
            fetch_revocation: roots.fetches_revocation(),
            grace: roots.revocation_grace().num_seconds(),
            limits: Limits {
                workers: limits.workers.max(1),
                ..limits
            },
            crew: Mutex::new(Crew::default()),
            freed: Condvar::new(),
            watchdog: Watchdog::start(limits.time)?,
        })
    }

    /// Workers run by the binary this process runs: `naskah` itself.
    pub fn own(roots: &Roots, limits: Limits) -> Result<Sandbox, String> {
        let program = std::env::current_exe().map_err(|e| format!("naskah's own path: {e}"))?;
        Sandbox::new(program, roots, limits)
    }

    /// Whether any root is trusted (with none, trust is not judged).
    pub fn has_roots(&self) -> bool {
        !self.roots_pem.is_empty()
    }

    /// Verifies `pdf` in a worker.
    pub fn verify(&self, pdf: &[u8], wait: Wait) -> Result<Report, VerifyError> {
        match self.run(Task::Verify, pdf, wait)? {
            Answer::Verified(outcome) => outcome,
            Answer::Inspected(_) => Err(broken("jawaban tak terduga")),
        }
    }

    /// Verifies the files at `paths` on every worker; the outcomes in their order. Each worker
    /// is handed a few paths at a time, reads the files itself and answers file by file, so it
    /// never waits for its caller between files; the watchdog gives each file the whole limit
    /// from the answer before it.
    pub fn verify_files(&self, paths: &[std::path::PathBuf]) -> Vec<Result<Report, VerifyError>> {
        /// Paths handed over at once.
        const BATCH: usize = 16;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Mutex<Option<Result<Report, VerifyError>>>> =
            paths.iter().map(|_| Mutex::new(None)).collect();
        let store = |index: usize, outcome| {
            if let Ok(mut slot) = results[index].lock() {
                *slot = Some(outcome);
            }
        };
        std::thread::scope(|scope| {
            for _ in 0..self.limits.workers.min(paths.len()) {
                scope.spawn(|| {
                    loop {
                        let start = next.fetch_add(BATCH, std::sync::atomic::Ordering::AcqRel);
                        if start >= paths.len() {
                            break;
                        }
                        let batch = &paths[start..paths.len().min(start + BATCH)];
                        // A worker that dies ends its file; the rest go to a fresh one.
                        let mut from = 0;
                        while from < batch.len() {
                            let offset = start + from;
                            from += self.run_batch(&batch[from..], &|i, outcome| {
                                store(offset + i, outcome)
                            });
                        }
                    }
                });
            }
        });
        outcomes(results)
    }

    /// Hands `paths` to one worker and stores each answer as it comes; how many files got an
    /// outcome (at least one: the answer, or the worker's death).
    fn run_batch(
        &self,
        paths: &[std::path::PathBuf],
        store: &(dyn Fn(usize, Result<Report, VerifyError>) + Sync),
    ) -> usize {
        use std::os::unix::ffi::OsStrExt;
        let worker = match self.take(Wait::Yes) {
            Ok(Some(worker)) => Ok(worker),
            Ok(None) => self.spawn(),
            Err(error) => {
                store(0, Err(error));
                return 1;
            }
        };
        let mut worker = match worker {
            Ok(worker) => worker,
            Err(error) => {
                self.give_back(None);
                store(0, Err(error));
                return 1;
            }
        };
        let pid = worker.child.id();
        let joined = paths
            .iter()
            .map(|p| p.as_os_str().as_bytes())
            .collect::<Vec<_>>()
            .join(&0u8);
        self.watchdog.watch(pid, Instant::now() + self.limits.time);
        let sent = (|| -> std::io::Result<()> {
            worker.input.write_all(&[Task::VerifyFiles as u8])?;
            write_frame(&mut worker.input, &joined)?;
            worker.input.flush()
        })();
        let mut answered = 0;
        while sent.is_ok() && answered < paths.len() {
            let answer = read_frame(&mut worker.output, MAX_ANSWER).and_then(|answer| {
                serde_json::from_slice::<Answer>(&answer).map_err(std::io::Error::other)
            });
            match answer {
                Ok(Answer::Verified(outcome)) => {
                    store(answered, outcome);
                    answered += 1;
                    self.watchdog.watch(pid, Instant::now() + self.limits.time);
                }
                _ => break,
            }
        }
        let killed = self.watchdog.unwatch(pid);
        if answered == paths.len() && !killed {
            self.give_back(Some(worker));
            return answered;
        }
        let status = end(worker);
        self.give_back(None);
        store(answered, Err(self.death(killed, status)));
        answered + 1
    }

    /// Reads `pdf` in a worker: is it a PDF at all, and how many pages has it.
    pub fn inspect(&self, pdf: &[u8], wait: Wait) -> Result<Inspected, VerifyError> {
        match self.run(Task::Inspect, pdf, wait)? {
            Answer::Inspected(outcome) => outcome,
            Answer::Verified(_) => Err(broken("jawaban tak terduga")),
        }
    }

    /// Verifies `count` files read by `source` on every worker, waiting for workers as they
    /// come free; the outcomes in the files' order.
    pub fn verify_many(
        &self,
        count: usize,
        source: &(dyn Fn(usize) -> Result<Vec<u8>, VerifyError> + Sync),
    ) -> Vec<Result<Report, VerifyError>> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Mutex<Option<Result<Report, VerifyError>>>> =
            (0..count).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..self.limits.workers.min(count) {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                        if index >= count {
                            break;
                        }
                        let outcome = source(index).and_then(|pdf| self.verify(&pdf, Wait::Yes));
                        if let Ok(mut slot) = results[index].lock() {
                            *slot = Some(outcome);
                        }
                    }
                });
            }
        });
        outcomes(results)
    }

    /// Whether a worker would be free now (a hint: another caller may take it first).
    pub fn has_room(&self) -> bool {
        self.crew
            .lock()
            .is_ok_and(|crew| crew.running < self.limits.workers)
    }

    fn run(&self, task: Task, pdf: &[u8], wait: Wait) -> Result<Answer, VerifyError> {
        if pdf.len() > crate::signing::pdf::MAX_INPUT {
            return Err(VerifyError::TooLarge(pdf.len()));
        }
        let worker = self.take(wait)?;
        let (outcome, worker) = match worker {
            Some(worker) => self.ask(worker, task, pdf),
            None => match self.spawn() {
                Ok(worker) => self.ask(worker, task, pdf),
                Err(error) => (Err(error), None),
            },
        };
        self.give_back(worker);
        outcome
    }

    /// A place among the running workers, with an idle worker when one is kept.
    fn take(&self, wait: Wait) -> Result<Option<Worker>, VerifyError> {
        let mut crew = self.crew.lock().map_err(|_| broken("kru pemeriksa"))?;
        while crew.running >= self.limits.workers {
            if wait == Wait::No {
                return Err(VerifyError::Busy);
            }
            crew.waiting += 1;
            crew = self.freed.wait(crew).map_err(|_| broken("kru pemeriksa"))?;
            crew.waiting -= 1;
        }
        crew.running += 1;
        Ok(crew.idle.pop())
    }

    fn give_back(&self, worker: Option<Worker>) {
        let waiting = match self.crew.lock() {
            Ok(mut crew) => {
                crew.running -= 1;
                crew.idle.extend(worker);
                crew.waiting > 0
            }
            Err(_) => true,
        };
        if waiting {
            self.freed.notify_one();
        }
    }

    fn spawn(&self) -> Result<Worker, VerifyError> {
        let mut child = Command::new(&self.program)
            .arg(WORKER_COMMAND)
            .arg(self.limits.memory.to_string())
            .arg(self.limits.time.as_secs().max(1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| broken(&format!("pemeriksa tidak dapat dijalankan: {e}")))?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(broken("pemeriksa tanpa saluran"));
        };
        let mut worker = Worker {
            child,
            input: BufWriter::new(input),
            output: BufReader::new(output),
        };
        let greeting = (|| -> std::io::Result<()> {
            write_frame(&mut worker.input, &self.roots_pem)?;
            worker.input.write_all(&[u8::from(self.fetch_revocation)])?;
            worker.input.write_all(&self.grace.to_be_bytes())?;
            worker.input.flush()
        })();
        if let Err(error) = greeting {
            end(worker);
            return Err(broken(&format!("pemeriksa tidak menerima akar: {error}")));
        }
        Ok(worker)
    }

    /// Hands `pdf` to `worker` and waits for its answer; the watchdog kills it past the time
    /// limit. The worker comes back when it answered and may take the next file.
    fn ask(
        &self,
        mut worker: Worker,
        task: Task,
        pdf: &[u8],
    ) -> (Result<Answer, VerifyError>, Option<Worker>) {
        let pid = worker.child.id();
        self.watchdog.watch(pid, Instant::now() + self.limits.time);
        let answer = exchange(&mut worker, task, pdf);
        // Once no longer watched, the worker is not killed, so reaping it below is safe.
        let killed = self.watchdog.unwatch(pid);
        match answer {
            Ok(answer) if !killed => (Ok(answer), Some(worker)),
            Ok(_) => {
                end(worker);
                (Err(VerifyError::TimedOut(self.limits.time.as_secs())), None)
            }
            Err(_) => {
                let status = end(worker);
                (Err(self.death(killed, status)), None)
            }
        }
    }

    /// Why a worker stopped answering.
    fn death(&self, killed: bool, status: Option<std::process::ExitStatus>) -> VerifyError {
        use nix::sys::signal::Signal;
        use std::os::unix::process::ExitStatusExt;
        let signal = status.and_then(|s| s.signal());
        if killed || signal == Some(Signal::SIGXCPU as i32) {
            return VerifyError::TimedOut(self.limits.time.as_secs());
        }
        // An allocation the memory budget refused aborts the worker (as does a stack that
        // overflowed); the kernel's out-of-memory killer sends SIGKILL.
        let out_of_memory = [Signal::SIGABRT, Signal::SIGKILL, Signal::SIGSEGV]
            .iter()
            .any(|s| signal == Some(*s as i32));
        if out_of_memory {
            VerifyError::TooComplex(self.limits.memory >> 20)
        } else {
            broken("pemeriksa berhenti tanpa jawaban")
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Ok(crew) = self.crew.get_mut() {
            for worker in crew.idle.drain(..) {
                end(worker);
            }
        }
    }
}

/// The workers at work and when each must have answered; one thread of the sandbox's looks
/// at the clock every tenth of the limit (at most a second) and kills those past it. A thread
/// per file would cost more than many a file's verification.
struct Watchdog {
    watched: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    /// Worker process ids and their deadlines.
    deadlines: Vec<(u32, Instant)>,
    /// Those the watchdog killed, until their caller asks.
    killed: Vec<u32>,
}

impl Watchdog {
    fn start(limit: Duration) -> Result<Watchdog, String> {
        let watched = Arc::new(Mutex::new(Watched::default()));
        let weak = Arc::downgrade(&watched);
        let tick = (limit / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        std::thread::Builder::new()
            .name("verify-watchdog".into())
            .spawn(move || {
                // Ends with the sandbox: the list is gone.
                while let Some(watched) = weak.upgrade() {
                    if let Ok(mut watched) = watched.lock() {
                        let now = Instant::now();
                        let Watched { deadlines, killed } = &mut *watched;
                        deadlines.retain(|&(pid, deadline)| {
                            if deadline > now {
                                return true;
                            }
                            kill(pid);
                            killed.push(pid);
                            false
                        });
                    }
                    drop(watched);
                    std::thread::sleep(tick);
                }
            })
            .map_err(|e| format!("the verification watchdog: {e}"))?;
        Ok(Watchdog { watched })
    }

    /// Watches `pid` until `deadline` (a later call moves its deadline).
    fn watch(&self, pid: u32, deadline: Instant) {
        if let Ok(mut watched) = self.watched.lock() {
            match watched
                .deadlines
                .iter_mut()
                .find(|(watched, _)| *watched == pid)
            {
                Some(entry) => entry.1 = deadline,
                None => watched.deadlines.push((pid, deadline)),
            }
        }
    }

    /// Stops watching `pid`; whether the watchdog killed it first.
    fn unwatch(&self, pid: u32) -> bool {
        let Ok(mut watched) = self.watched.lock() else {
            return true;
        };
        watched.deadlines.retain(|(watched, _)| *watched != pid);
        match watched.killed.iter().position(|killed| *killed == pid) {
            Some(at) => {
                watched.killed.swap_remove(at);
                true
            }
            None => false,
        }
    }
}

/// The outcome in each slot, in order; a slot nobody filled says so.
fn outcomes(
    slots: Vec<Mutex<Option<Result<Report, VerifyError>>>>,
) -> Vec<Result<Report, VerifyError>> {
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(broken("tidak diperiksa")))
        })
        .collect()
}

fn broken(why: &str) -> VerifyError {
    VerifyError::Unreadable(format!("pemeriksa gagal: {why}"))
}

fn kill(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Ends a worker and reaps it; its exit status when it had one.
fn end(mut worker: Worker) -> Option<std::process::ExitStatus> {
    drop(worker.input);
    if worker.child.try_wait().ok().flatten().is_none() {
        kill(worker.child.id());
    }
    worker.child.wait().ok()
}

fn exchange(worker: &mut Worker, task: Task, pdf: &[u8]) -> std::io::Result<Answer> {
    worker.input.write_all(&[task as u8])?;
    write_frame(&mut worker.input, pdf)?;
    worker.input.flush()?;
    let answer = read_frame(&mut worker.output, MAX_ANSWER)?;
    serde_json::from_slice(&answer).map_err(std::io::Error::other)
}

/// The largest answer a worker may send: a report of a thousand signatures fits many times.
const MAX_ANSWER: usize = 16 << 20;

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(bytes)
}

fn read_frame(input: &mut impl Read, max: usize) -> std::io::Result<Vec<u8>> {
    let mut length = [0u8; 8];
    input.read_exact(&mut length)?;
    let length = usize::try_from(u64::from_le_bytes(length))
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| std::io::Error::other("frame too large"))?;
    let mut bytes = vec![0u8; length];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The worker's side: `naskah verify-worker MEMORY SECONDS`, its budget set before it reads
/// anything, then one file after another until its input ends.
pub fn worker(memory: u64, seconds: u64) -> Result<(), String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    setrlimit(Resource::RLIMIT_DATA, memory, memory).map_err(|e| format!("memory limit: {e}"))?;
    let (_, cpu_hard) = getrlimit(Resource::RLIMIT_CPU).map_err(|e| format!("CPU limit: {e}"))?;
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    let pem = read_frame(&mut input, MAX_ANSWER).map_err(|e| format!("roots: {e}"))?;
    let mut fetch = [0u8; 1];
    input
        .read_exact(&mut fetch)
        .map_err(|e| format!("roots: {e}"))?;
    let mut grace = [0u8; 8];
    input
        .read_exact(&mut grace)
        .map_err(|e| format!("roots: {e}"))?;
    let roots = Roots::from_pem_bytes(&pem)?
        .fetching_revocation(fetch[0] == 1)
        .with_revocation_grace(chrono::Duration::seconds(i64::from_be_bytes(grace)));
    loop {
        let mut task = [0u8; 1];
        match input.read_exact(&mut task) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
        let payload = read_frame(&mut input, crate::signing::pdf::MAX_INPUT)
            .map_err(|e| format!("file: {e}"))?;
        // The CPU budget of each file: what the worker has used so far, plus the limit.
        let budget = || -> Result<(), String> {
            let used = cpu_seconds()?;
            setrlimit(Resource::RLIMIT_CPU, used + seconds + 1, cpu_hard)
                .map_err(|e| format!("CPU limit: {e}"))
        };
        let mut answer = |answer: &Answer| -> Result<(), String> {
            let json = serde_json::to_vec(answer).map_err(|e| e.to_string())?;
            write_frame(&mut output, &json).map_err(|e| e.to_string())?;
            output.flush().map_err(|e| e.to_string())
        };
        if task[0] == Task::VerifyFiles as u8 {
            for path in payload.split(|b| *b == 0) {
                budget()?;
                answer(&Answer::Verified(guarded(|| {
                    super::verify(&read_file(path)?, &roots)
                })))?;
            }
            continue;
        }
        budget()?;
        let outcome = if task[0] == Task::Inspect as u8 {
            Answer::Inspected(guarded(|| inspect(&payload)))
        } else {
            Answer::Verified(guarded(|| super::verify(&payload, &roots)))
        };
        drop(payload);
        answer(&outcome)?;
    }
}

/// The file at `path` (bytes of a path), refused before it is read when it is larger than any
/// PDF naskah reads.
fn read_file(path: &[u8]) -> Result<Vec<u8>, VerifyError> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let size = std::fs::metadata(path)
        .map_err(|e| VerifyError::Unreadable(e.to_string()))?
        .len();
    if size > crate::signing::pdf::MAX_INPUT as u64 {
        return Err(VerifyError::TooLarge(
            usize::try_from(size).unwrap_or(usize::MAX),
        ));
    }
    std::fs::read(path).map_err(|e| VerifyError::Unreadable(e.to_string()))
}

/// A panic of the reader becomes an error of its file.
fn guarded<T>(work: impl FnOnce() -> Result<T, VerifyError>) -> Result<T, VerifyError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(VerifyError::Unreadable("pembaca PDF gagal".into())))
}

fn inspect(pdf: &[u8]) -> Result<Inspected, VerifyError> {
    let document = crate::signing::pdf::read(pdf, false)
        .map_err(|e| VerifyError::Unreadable(e.to_string()))?;
    Ok(Inspected {
        pages: document.get_pages().len(),
        encrypted: document.trailer.get(b"Encrypt").is_ok(),
    })
}

fn cpu_seconds() -> Result<u64, String> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_SELF).map_err(|e| format!("CPU time: {e}"))?;
    let seconds = usage.user_time().tv_sec() + usage.system_time().tv_sec();
    Ok(u64::try_from(seconds).unwrap_or(0))
}
