//! Attempts at a secret, counted before the secret is checked: a sign-in from an address, the
//! sign-ins of one account from one address, an official's signing passphrase. Each attempt
//! first takes its place in the count ([`reserve`]); only an attempt that got one is checked,
//! and the attempt that reaches the policy's number sets the wait in the same statement that
//! counts it. The count and the wait change together in one compare-and-set `UPDATE` (or the
//! `INSERT` of the first attempt), so N parallel attempts check at most the allowed number,
//! on one instance or many, and a crash between two statements cannot leave a half-set lock.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::attempts;

/// What is being guessed at, and by whom: each its own count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Sign-ins of one account from one address.
    SignIn,
    /// Failed sign-ins from one address, whatever the account.
    SignInAddress,
    /// An official's signing passphrase.
    Passphrase,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::SignIn => "signin",
            Scope::SignInAddress => "signin_address",
            Scope::Passphrase => "passphrase",
        }
    }
}

/// How many attempts are free and how long the wait is after them.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts in a row checked before the wait; the last of them sets it.
    pub free: i32,
    /// The first wait.
    pub wait: Duration,
    /// Whether each further failure after a wait doubles it (up to `longest`), or a wait that
    /// ended starts the count over.
    pub doubling: bool,
    pub longest: Duration,
    /// Failures further apart than this are not "in a row": the count starts over.
    pub forget_after: Option<Duration>,
}

/// Whether an attempt may be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Check it: it is failure number `failures` should it fail; `waits_until` is set when
    /// this attempt set the wait.
    Go {
        failures: i32,
        waits_until: Option<NaiveDateTime>,
    },
    /// Not checked: the subject waits until then.
    Waiting { until: NaiveDateTime },
}

/// A count the office's admin sees.
#[derive(Clone, Debug, Serialize)]
pub struct Count {
    pub subject: String,
    pub failures: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The subject of `username`'s sign-ins from `address`.
pub fn sign_in_subject(username: &str, address: &str) -> String {
    format!("{username}|{address}")
}

/// The subject of an official's signing passphrase.
pub fn passphrase_subject(person: crate::ids::PersonId) -> String {
    format!("person:{person}")
}

/// How many times an attempt tries again when others changed the count under it.
const RACES: usize = 64;

impl Policy {
    fn wait_after(&self, failures: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if failures < self.free {
            return None;
        }
        let doublings = if self.doubling {
            (failures - self.free).clamp(0, 16) as u32
        } else {
            0
        };
        Some(now + (self.wait * 2i32.pow(doublings)).min(self.longest))
    }
}

/// Takes a place for one attempt at `subject` in `scope`, at `now`.
pub fn reserve(
    conn: &mut DbConn,
    scope: Scope,
    subject: &str,
    policy: &Policy,
    now: NaiveDateTime,
) -> QueryResult<Attempt> {
    for _ in 0..RACES {
        let found: Option<(i32, Option<NaiveDateTime>, NaiveDateTime)> = attempts::table
            .find((scope.as_str(), subject))
            .select((
                attempts::failures,
                attempts::locked_until,
                attempts::updated_at,
            ))
            .first(conn)
            .optional()?;
        let Some((failures, locked_until, updated_at)) = found else {
            let waits_until = policy.wait_after(1, now);
            let inserted = diesel::insert_into(attempts::table)
                .values((
                    attempts::scope.eq(scope.as_str()),
                    attempts::subject.eq(subject),
                    attempts::failures.eq(1),
                    attempts::locked_until.eq(waits_until),
                    attempts::updated_at.eq(now),
                ))
                .execute(conn);
            match inserted {
                Ok(_) => {
                    return Ok(Attempt::Go {
                        failures: 1,
                        waits_until,
                    });
                }
                // Another attempt made the row first: count on it.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => continue,
                Err(error) => return Err(error),
            }
        };
        if let Some(until) = locked_until
            && until > now
        {
            return Ok(Attempt::Waiting { until });
        }
        let forgotten = policy
            .forget_after
            .is_some_and(|after| now - updated_at > after);
        let waited_out = locked_until.is_some() && !policy.doubling;
        let base = if forgotten || waited_out { 0 } else { failures };
        let next = base + 1;
        let waits_until = policy.wait_after(next, now);
        let updated = diesel::update(
            attempts::table
                .find((scope.as_str(), subject))
                .filter(attempts::failures.eq(failures)),
        )
        .set((
            attempts::failures.eq(next),
            attempts::locked_until.eq(waits_until),
            attempts::updated_at.eq(now),
        ))
        .execute(conn)?;
        if updated == 1 {
            return Ok(Attempt::Go {
                failures: next,
                waits_until,
            });
        }
    }
    // Lost every race: so many attempts at once are not a person's.
    Ok(Attempt::Waiting {
        until: now + Duration::seconds(1),
    })
}

/// Until when `subject` waits, if it does now (a read, for refusing early).
pub fn waiting(
    conn: &mut DbConn,
    scope: Scope,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let until: Option<Option<NaiveDateTime>> = attempts::table
        .find((scope.as_str(), subject))
        .select(attempts::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|until| *until > now))
}

/// The secret was right: the count of `subject` starts over.
pub fn clear(conn: &mut DbConn, scope: Scope, subject: &str) -> QueryResult<()> {
    diesel::delete(attempts::table.find((scope.as_str(), subject)))
        .execute(conn)
        .map(|_| ())
}

/// The secret was right, but the count goes on (an address's failures): the attempt's place
/// is given back, and a wait it set is lifted when the count falls below the free number.
pub fn give_back(
    conn: &mut DbConn,
    scope: Scope,
    subject: &str,
    policy: &Policy,
) -> QueryResult<()> {
    for _ in 0..RACES {
        let found: Option<(i32, Option<NaiveDateTime>)> = attempts::table
            .find((scope.as_str(), subject))
            .select((attempts::failures, attempts::locked_until))
            .first(conn)
            .optional()?;
        let Some((failures, locked_until)) = found.filter(|(failures, _)| *failures > 0) else {
            return Ok(());
        };
        let next = failures - 1;
        let locked_until = locked_until.filter(|_| next >= policy.free);
        let updated = diesel::update(
            attempts::table
                .find((scope.as_str(), subject))
                .filter(attempts::failures.eq(failures)),
        )
        .set((
            attempts::failures.eq(next),
            attempts::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
        if updated == 1 {
            return Ok(());
        }
    }
    Ok(())
}

/// The counts in `scope` whose subject starts with `prefix`, that still wait or count
/// failures, newest first.
pub fn counts(conn: &mut DbConn, scope: Scope, prefix: &str) -> QueryResult<Vec<Count>> {
    let rows: Vec<(String, i32, Option<NaiveDateTime>, NaiveDateTime)> = attempts::table
        .filter(attempts::scope.eq(scope.as_str()))
        .filter(attempts::subject.like(format!("{}%", escape_like(prefix))))
        .filter(attempts::failures.gt(0))
        .order(attempts::updated_at.desc())
        .select((
            attempts::subject,
            attempts::failures,
            attempts::locked_until,
            attempts::updated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(subject, ..)| subject.starts_with(prefix))
        .map(|(subject, failures, locked_until, updated_at)| Count {
            subject,
            failures,
            locked_until,
            updated_at,
        })
        .collect())
}

/// The count of one subject, when it has failures.
pub fn count(conn: &mut DbConn, scope: Scope, subject: &str) -> QueryResult<Option<Count>> {
    Ok(counts(conn, scope, subject)?
        .into_iter()
        .find(|count| count.subject == subject))
}

/// Every count in `scope` whose subject starts with `prefix` starts over; how many there were.
pub fn clear_all(conn: &mut DbConn, scope: Scope, prefix: &str) -> QueryResult<usize> {
    let subjects: Vec<String> = counts(conn, scope, prefix)?
        .into_iter()
        .map(|count| count.subject)
        .collect();
    for subject in &subjects {
        clear(conn, scope, subject)?;
    }
    Ok(subjects.len())
}

/// `prefix` with LIKE's wildcards taken literally is not portable (the ESCAPE clause differs):
/// they become the single-character wildcard, and the caller filters the rows again.
fn escape_like(prefix: &str) -> String {
    prefix.replace(['%', '_', '\\'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    }

    #[test]
    fn the_wait_starts_at_the_free_number_and_doubles_up_to_the_longest() {
        let policy = Policy {
            free: 5,
            wait: Duration::minutes(15),
            doubling: true,
            longest: Duration::days(1),
            forget_after: None,
        };
        assert_eq!(policy.wait_after(4, at(0)), None);
        assert_eq!(policy.wait_after(5, at(0)), Some(at(15)));
        assert_eq!(policy.wait_after(6, at(0)), Some(at(30)));
        assert_eq!(policy.wait_after(40, at(0)), Some(at(24 * 60)));
    }
}
