//! What naskah's archive knows of a PDF it is shown: the letter whose revision has the same
//! SHA-256 as the whole file, or, for a file changed after it left naskah, as the longest
//! prefix of it that ends a revision (the bytes naskah issued, with something appended).

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{issued_numbers, letter_revisions, letters, offices};
use crate::ids::LetterId;

/// How much of the file the archive holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Match {
    /// The file is an archived revision, byte for byte.
    Whole,
    /// The file begins with an archived revision; what follows is not in the archive.
    Prefix,
}

/// An archived letter as anyone may see it: nothing beyond what its paper copy shows.
#[derive(Clone, Debug, Serialize)]
pub struct Archived {
    /// The id in the letter's QR code.
    pub public_id: String,
    pub office: String,
    pub kind: String,
    pub kind_name: String,
    pub number: Option<String>,
    pub date: Option<chrono::NaiveDate>,
    pub status: String,
    /// The archived revision the file is (or begins with), and of how many.
    pub revision: i32,
    pub revisions: i64,
    #[serde(rename = "match")]
    pub matched: Match,
}

/// Looks `pdf` up in the archive, given where its revisions end.
pub fn lookup(
    conn: &mut DbConn,
    pdf: &[u8],
    ends: &[(usize, usize)],
) -> QueryResult<Option<Archived>> {
    // One pass over the file: the hasher's state at each place a revision may end is the
    // digest of the prefix up to there.
    let mut stops: Vec<usize> = ends
        .iter()
        .flat_map(|(mark, end)| [*mark, *end])
        .chain(std::iter::once(pdf.len()))
        .filter(|end| *end <= pdf.len())
        .collect();
    stops.sort_unstable();
    stops.dedup();
    let mut hasher = openssl::sha::Sha256::new();
    let mut hashed = 0;
    let mut candidates: Vec<(String, usize)> = Vec::with_capacity(stops.len());
    for stop in stops {
        hasher.update(&pdf[hashed..stop]);
        hashed = stop;
        candidates.push((crate::digest::hex(&hasher.clone().finish()), stop));
    }
    let whole = candidates
        .last()
        .map(|(hash, _)| hash.clone())
        .unwrap_or_default();
    let hashes: Vec<&str> = candidates.iter().map(|(h, _)| h.as_str()).collect();
    let found: Vec<(LetterId, i32, String)> = letter_revisions::table
        .filter(letter_revisions::sha256.eq_any(&hashes))
        .select((
            letter_revisions::letter_id,
            letter_revisions::revision,
            letter_revisions::sha256,
        ))
        .load(conn)?;
    // The longest prefix wins: the revision furthest along.
    let best = found.into_iter().max_by_key(|(_, _, hash)| {
        candidates
            .iter()
            .find(|(h, _)| h == hash)
            .map_or(0, |(_, end)| *end)
    });
    let Some((letter, revision, hash)) = best else {
        return Ok(None);
    };
    let matched = if hash == whole {
        Match::Whole
    } else {
        Match::Prefix
    };
    public(conn, letter, revision, matched).map(Some)
}

/// The archived letter with the public id `public_id` (from its QR code), at its newest
/// revision.
pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> QueryResult<Option<Archived>> {
    let Some(letter) = letters::table
        .filter(letters::public_id.eq(public_id))
        .select(letters::id)
        .first::<LetterId>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let revision: Option<i32> = letter_revisions::table
        .filter(letter_revisions::letter_id.eq(letter))
        .select(diesel::dsl::max(letter_revisions::revision))
        .first(conn)?;
    public(conn, letter, revision.unwrap_or(0), Match::Whole).map(Some)
}

fn public(
    conn: &mut DbConn,
    letter: LetterId,
    revision: i32,
    matched: Match,
) -> QueryResult<Archived> {
    let (public_id, office, kind, date, status): (
        String,
        String,
        String,
        Option<chrono::NaiveDate>,
        String,
    ) = letters::table
        .inner_join(offices::table)
        .filter(letters::id.eq(letter))
        .select((
            letters::public_id,
            offices::name,
            letters::kind,
            letters::letter_date,
            letters::status,
        ))
        .first(conn)?;
    let number: Option<String> = issued_numbers::table
        .filter(issued_numbers::letter_id.eq(letter))
        .filter(issued_numbers::status.ne("void"))
        .select(issued_numbers::number)
        .first(conn)
        .optional()?;
    let revisions: i64 = letter_revisions::table
        .filter(letter_revisions::letter_id.eq(letter))
        .count()
        .get_result(conn)?;
    let kind_name = kind
        .parse::<crate::letters::LetterKind>()
        .map(|k| k.name().to_owned())
        .unwrap_or_else(|_| kind.clone());
    Ok(Archived {
        public_id,
        office,
        kind,
        kind_name,
        number,
        date,
        status,
        revision,
        revisions,
        matched,
    })
}
