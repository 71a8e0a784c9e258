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

/// Reads `pdf` (or a revision of it, a prefix) within the reader's limits, leniently, as
/// viewers do: the verifier must read what it is shown, and judge it.
pub fn load(pdf: &[u8]) -> Result<Document, VerifyError> {
    crate::signing::pdf::read(pdf, false).map_err(|e| match e {
        crate::signing::PdfError::TooLarge(size) => VerifyError::TooLarge(size),
        other => VerifyError::Unreadable(other.to_string()),
    })
}
