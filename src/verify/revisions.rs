//! A PDF's revisions: the original and each incremental update after it, each ending with
//! `%%EOF`. A signature covers one revision; what came after it is judged against it.

use lopdf::Document;

use super::VerifyError;

/// The most revisions a PDF may have.
const MAX_REVISIONS: usize = 1_000;

/// Where each revision ends, in file order: just after its `%%EOF`, and after the line end
/// that follows it (a signed range may end at either). Bytes after the last `%%EOF` belong to
/// no revision.
pub fn ends(pdf: &[u8]) -> Vec<(usize, usize)> {
    const MARK: &[u8] = b"%%EOF";
    let mut ends = Vec::new();
    let mut from = 0;
    let finder = memchr::memmem::Finder::new(MARK);
    while let Some(at) = finder.find(&pdf[from..]) {
        let mark_end = from + at + MARK.len();
        let mut end = mark_end;
        if pdf.get(end) == Some(&b'\r') {
            end += 1;
        }
        if pdf.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push((mark_end, end));
        from = end;
        if ends.len() > MAX_REVISIONS {
            break;
        }
    }
    ends
}

/// The revision (0-based) that ends at `end`, if one does.
pub fn revision_ending_at(ends: &[(usize, usize)], end: usize) -> Option<usize> {
    ends.iter()
        .position(|&(mark_end, with_eol)| (mark_end..=with_eol).contains(&end))
}

/// A signature value as a `/ByteRange` leaves it out of the signed bytes: from its `<` to just
/// after its `>`.
pub type Gap = std::ops::Range<usize>;

/// Shorter hex strings are not worth blanking.
const MIN_GAP: usize = 64;

/// The gaps the file's `/ByteRange` arrays point at, found in the raw bytes: four integers
/// whose middle two bound `<…>` of at least [`MIN_GAP`] bytes, none overlapping another. They are only candidates: which of them a signature dictionary of the document
/// really holds is for the verifier to establish.
pub fn value_gaps(pdf: &[u8]) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = Vec::new();
    for at in memchr::memmem::find_iter(pdf, b"/ByteRange") {
        let Some([_, first, second, _]) = four_integers(&pdf[at + b"/ByteRange".len()..]) else {
            continue;
        };
        let is_string = first < second
            && second <= pdf.len()
            && second - first >= MIN_GAP
            && pdf[first] == b'<'
            && pdf[second - 1] == b'>';
        if is_string && !gaps.iter().any(|g| g.start < second && first < g.end) {
            gaps.push(first..second);
        }
    }
    gaps
}

/// `[a b c d]` at the start of `bytes` (after white space), as non-negative integers.
fn four_integers(bytes: &[u8]) -> Option<[usize; 4]> {
    let rest = bytes.trim_ascii_start().strip_prefix(b"[")?;
    let mut numbers = [0usize; 4];
    let mut rest = rest;
    for number in &mut numbers {
        rest = rest.trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 15 {
            return None;
        }
        *number = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        rest = &rest[digits..];
    }
    rest.trim_ascii_start().starts_with(b"]").then_some(numbers)
}

/// Reads `pdf` like [`load`], with the hex digits of each gap (all within `pdf`) blanked
/// out: `<>` and spaces, the same length, so every offset stands. The reader decodes a hex
/// string a digit at a time, and a signature value is most of a signed letter; the verifier
/// reads each value from the file itself, and reads the file again without blanking when a
/// gap turns out not to be a signature's own value.
pub fn load_without(pdf: &[u8], gaps: &[Gap]) -> Result<Document, VerifyError> {
    if gaps.is_empty() || pdf.len() > crate::signing::pdf::MAX_INPUT {
        return load(pdf);
    }
    let mut copy = pdf.to_vec();
    for gap in gaps {
        copy[gap.start + 1] = b'>';
        copy[gap.start + 2..gap.end].fill(b' ');
    }
    load(&copy)
}

/// Reads `pdf` (or a revision of it, a prefix) within the reader's limits, leniently, as
/// viewers do: the verifier must read what it is shown, and judge it.
pub fn load(pdf: &[u8]) -> Result<Document, VerifyError> {
    crate::signing::pdf::read(pdf, false).map_err(|e| match e {
        crate::signing::PdfError::TooLarge(size) => VerifyError::TooLarge(size),
        other => VerifyError::Unreadable(other.to_string()),
    })
}

/// SHA-256 over a file, kept as far as it got: the digest of the whole file and that of a
/// signature's signed bytes (all but its value) share their first range, most of the file,
/// which is then hashed once.
pub struct Prefix<'a> {
    pdf: &'a [u8],
    hasher: openssl::sha::Sha256,
    at: usize,
}

impl<'a> Prefix<'a> {
    pub fn new(pdf: &'a [u8]) -> Prefix<'a> {
        Prefix {
            pdf,
            hasher: openssl::sha::Sha256::new(),
            at: 0,
        }
    }

    /// The SHA-256 of the file's first `upto` bytes followed by `rest`.
    pub fn sha256_with(&mut self, upto: usize, rest: &[u8]) -> [u8; 32] {
        let upto = upto.min(self.pdf.len());
        let mut hasher = if upto < self.at {
            let mut fresh = openssl::sha::Sha256::new();
            fresh.update(&self.pdf[..upto]);
            fresh
        } else {
            self.hasher.update(&self.pdf[self.at..upto]);
            self.at = upto;
            self.hasher.clone()
        };
        hasher.update(rest);
        hasher.finish()
    }

    /// The SHA-256 of the whole file.
    pub fn whole(mut self) -> [u8; 32] {
        self.sha256_with(self.pdf.len(), &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_found_where_byte_ranges_point() {
        let value = format!("<{}>", "3082".repeat(40));
        // Five-digit numbers: the value starts where the header ends, whatever they say.
        let header = |first: usize, second: usize| {
            format!("%PDF-1.7\n1 0 obj <</ByteRange [ 0 {first:05}\n{second:05} 0 ]/Contents ")
        };
        let at = header(0, 0).len();
        let pdf = format!("{}{value}>>", header(at, at + value.len()));
        assert_eq!(value_gaps(pdf.as_bytes()), vec![at..at + value.len()]);
        // Too short, not a string, past the end, or overlapping one found: no gap.
        assert!(value_gaps(b"/ByteRange [0 1 3 0] <0>").is_empty());
        assert!(value_gaps(b"/ByteRange [0 0 100 0] (xx)").is_empty());
        assert!(value_gaps(b"/ByteRange [0 0 999999 0]").is_empty());
        assert!(value_gaps(b"/ByteRange [0 1.5 9 0]").is_empty());
    }

    #[test]
    fn a_prefix_hashed_once_gives_every_digest() {
        let pdf: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut prefix = Prefix::new(&pdf);
        let expect = |parts: &[&[u8]]| {
            let mut hasher = openssl::sha::Sha256::new();
            parts.iter().for_each(|p| hasher.update(p));
            hasher.finish()
        };
        assert_eq!(
            prefix.sha256_with(6_000, &pdf[9_000..]),
            expect(&[&pdf[..6_000], &pdf[9_000..]])
        );
        // Behind where it got: from the start again.
        assert_eq!(prefix.sha256_with(100, b"x"), expect(&[&pdf[..100], b"x"]));
        assert_eq!(prefix.whole(), expect(&[&pdf]));
    }
}
