//! Verification for auditors: every signature and document time-stamp in a PDF, checked for
//! integrity (the byte ranges, the digest, the signature value), trust (a chain to the
//! configured roots at the proven signing time, not revoked by the CRLs the document carries),
//! PAdES level, and what changed after it was signed (`changes.rs`).
//!
//! The verdict is VALID only when every signature is intact and trusted and only permitted
//! changes follow it; otherwise NO_SIGNATURE, INVALID, MODIFIED, UNTRUSTED or INDETERMINATE
//! (trust cannot be decided), the first that applies. Sub-filters read: `adbe.pkcs7.detached`,
//! `ETSI.CAdES.detached`, `ETSI.RFC3161`, `adbe.pkcs7.sha1` and `adbe.x509.rsa_sha1`
//! (`legacy.rs`); a CMS in DER or BER (`ber.rs`); weak algorithms under `policy.rs`. The reader works within limits (`revisions.rs`) and ends with an error on what it
//! cannot read, never a panic.

pub mod archive;
pub mod ber;
pub mod changes;
pub mod cms;
pub mod fetch;
pub mod legacy;
pub mod policy;
pub mod revisions;
pub mod sandbox;
pub mod trust;

use lopdf::{Document, Object, ObjectId};
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

pub use changes::ChangesAfter;
pub use trust::{Roots, Trust};

/// A verdict's name as the JSON report writes it: `VALID`, `INTACT`, `TRUSTED`, `NONE`, ….
pub fn name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Why a file could not be verified at all.
#[derive(Clone, Debug, thiserror::Error, Serialize, Deserialize)]
pub enum VerifyError {
    #[error("berkas terlalu besar ({0} byte; batas {max})", max = crate::signing::pdf::MAX_INPUT)]
    TooLarge(usize),
    #[error("berkas PDF tidak dapat dibaca: {0}")]
    Unreadable(String),
    #[error("pemeriksaan melebihi batas waktu {0} detik")]
    TimedOut(u64),
    /// The reader needed more memory than a worker has (a file built to exhaust it).
    #[error("berkas PDF terlalu rumit untuk diperiksa (melebihi batas memori {0} MB)")]
    TooComplex(u64),
    /// Every worker is busy; the caller may try again shortly.
    #[error("terlalu banyak pemeriksaan sedang berjalan; coba lagi sebentar lagi")]
    Busy,
}

/// The document's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Valid,
    NoSignature,
    Invalid,
    Modified,
    Untrusted,
    Indeterminate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Integrity {
    Intact,
    Broken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Signature,
    Timestamp,
}

/// Who signed, from their certificate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    pub nip: Option<String>,
    pub position: Option<String>,
}

/// One signature or document time-stamp.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignatureReport {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub signer: Option<Signer>,
    /// The signing time the signer claims (`/M`, or a signing-time attribute).
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The time its time-stamp proves.
    pub timestamp_at: Option<chrono::DateTime<chrono::Utc>>,
    pub level: Option<String>,
    pub integrity: Integrity,
    pub trust: Trust,
    pub changes_after: ChangesAfter,
    /// What changed after it: permitted changes, then disallowed ones.
    pub changes: Vec<String>,
    /// Why it is not intact or not trusted, in words.
    pub problems: Vec<String>,
    /// The 0-based revision it covers.
    #[serde(skip)]
    revision: usize,
}

/// The report on one PDF.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub sha256: String,
    pub verdict: Verdict,
    pub signatures: Vec<SignatureReport>,
}

/// The most signature fields followed through the form, against crafted field trees.
const MAX_FIELDS: usize = 1_000;

/// How long one file may take before the verifier gives up on it.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Verifies `pdf` against `roots`.
pub fn verify(pdf: &[u8], roots: &Roots) -> Result<Report, VerifyError> {
    let prefix = std::cell::RefCell::new(revisions::Prefix::new(pdf));
    let gaps = revisions::value_gaps(pdf);
    let signatures = match check_all(pdf, roots, &gaps, &prefix)? {
        Some(signatures) => signatures,
        // A blanked gap was not the value of a signature dictionary: the file is read again
        // as it stands, so that nothing the verifier judges differs from what a viewer shows.
        None => check_all(pdf, roots, &[], &prefix)?.unwrap_or_default(),
    };
    let sha256 = crate::digest::hex(&prefix.into_inner().whole());
    Ok(report(sha256, signatures))
}

/// Checks every signature of `pdf`, read with `gaps` blanked (see
/// [`revisions::load_without`]); `None` when a gap was not a signature's own value.
fn check_all(
    pdf: &[u8],
    roots: &Roots,
    gaps: &[revisions::Gap],
    prefix: &std::cell::RefCell<revisions::Prefix<'_>>,
) -> Result<Option<Vec<SignatureReport>>, VerifyError> {
    let document = revisions::load_without(pdf, gaps)?;
    let ends = revisions::ends(pdf);
    let fields = signature_fields(&document);
    let (dss_certs, revocation) = dss(&document);
    let docmdp = changes::docmdp(&document);
    let revisions = Revisions {
        pdf,
        document: &document,
        ends: &ends,
        gaps,
        prefix,
        read: ends.iter().map(|_| std::cell::OnceCell::new()).collect(),
    };
    let mut read_from_file = vec![false; gaps.len()];
    let (mut reports, mut evidence): (Vec<SignatureReport>, Vec<Option<Evidence>>) = fields
        .iter()
        .map(|(name, value)| {
            check_one(
                &revisions,
                &document,
                name,
                *value,
                docmdp,
                &mut read_from_file,
            )
        })
        .unzip();
    for (revision, name, id) in removed_signatures(&revisions, &fields) {
        let Ok(holder) = revisions.at(revision) else {
            continue;
        };
        let (mut report, found) = check_one(
            &revisions,
            holder,
            &name,
            Ok(id),
            docmdp,
            &mut read_from_file,
        );
        report.changes_after = ChangesAfter::Disallowed;
        report
            .changes
            .push("tanda tangan ini dihapus dari formulir oleh revisi sesudahnya".into());
        reports.push(report);
        evidence.push(found);
    }
    if read_from_file.contains(&false) {
        return Ok(None);
    }
    assign_levels(&mut reports, &revisions);
    judge_trust(&mut reports, &evidence, roots, &dss_certs, &revocation);
    Ok(Some(reports))
}

/// The document's verdict from its signatures' findings.
fn report(sha256: String, reports: Vec<SignatureReport>) -> Report {
    let verdict = if reports.is_empty() {
        Verdict::NoSignature
    } else if reports.iter().any(|r| r.integrity == Integrity::Broken) {
        Verdict::Invalid
    } else if reports
        .iter()
        .any(|r| r.changes_after == ChangesAfter::Disallowed)
    {
        Verdict::Modified
    } else if reports
        .iter()
        .any(|r| !matches!(r.trust, Trust::Trusted | Trust::Indeterminate))
    {
        Verdict::Untrusted
    } else if reports.iter().any(|r| r.trust == Trust::Indeterminate) {
        Verdict::Indeterminate
    } else {
        Verdict::Valid
    };
    Report {
        sha256,
        verdict,
        signatures: reports,
    }
}

/// Follows a reference, once.
fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    crate::signing::pdf::resolve(document, object).ok()
}

/// The form's signed signature fields, with their (fully qualified) names and the reference
/// to their signature dictionary (`None` when it is not an indirect object).
fn signature_fields(document: &Document) -> Vec<(String, Result<ObjectId, ()>)> {
    let mut found = Vec::new();
    let Some(form) = document
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| resolve(document, f))
        .and_then(|f| f.as_dict().ok())
    else {
        return found;
    };
    let Some(fields) = form
        .get(b"Fields")
        .ok()
        .and_then(|f| resolve(document, f))
        .and_then(|f| f.as_array().ok())
    else {
        return found;
    };
    let mut stack: Vec<(String, &Object, usize)> =
        fields.iter().rev().map(|f| (String::new(), f, 0)).collect();
    let mut visited = std::collections::BTreeSet::new();
    while let Some((parent, field, depth)) = stack.pop() {
        if found.len() + visited.len() > MAX_FIELDS || depth > 32 {
            break;
        }
        if let Object::Reference(id) = field
            && !visited.insert(*id)
        {
            continue;
        }
        let Some(dict) = resolve(document, field).and_then(|f| f.as_dict().ok()) else {
            continue;
        };
        let own = dict
            .get(b"T")
            .ok()
            .and_then(|t| t.as_str().ok())
            .map(|t| String::from_utf8_lossy(t).into_owned());
        let name = match (parent.is_empty(), own) {
            (true, Some(own)) => own,
            (false, Some(own)) => format!("{parent}.{own}"),
            (_, None) => parent.clone(),
        };
        if let Ok(Object::Array(kids)) = dict.get(b"Kids") {
            stack.extend(kids.iter().rev().map(|k| (name.clone(), k, depth + 1)));
        }
        let is_signature = dict.get(b"FT").ok().and_then(|f| f.as_name().ok()) == Some(b"Sig");
        match dict.get(b"V") {
            Ok(Object::Reference(id)) if is_signature => found.push((name, Ok(*id))),
            Ok(_) if is_signature => found.push((name, Err(()))),
            _ => {}
        }
    }
    found
}

/// Signatures that an earlier revision's form held and the document's form no longer does:
/// their values lie in the file, claimed by no field of the last revision. Each with the
/// revision whose form holds it, its field's name and its signature dictionary. Only the
/// revisions such a value ends in are read.
fn removed_signatures(
    revisions: &Revisions<'_, '_>,
    fields: &[(String, Result<ObjectId, ()>)],
) -> Vec<(usize, String, ObjectId)> {
    let claimed: Vec<revisions::Gap> = fields
        .iter()
        .filter_map(|(_, value)| value_gap(revisions.document, *value.as_ref().ok()?))
        .collect();
    let mut removed = Vec::new();
    let mut read = std::collections::BTreeSet::new();
    for gap in revisions::value_gaps(revisions.pdf) {
        if claimed.contains(&gap) {
            continue;
        }
        let Some(revision) = revisions.ends.iter().position(|(_, end)| gap.end <= *end) else {
            continue;
        };
        if revision + 1 >= revisions.ends.len() || !read.insert(revision) {
            continue;
        }
        let Ok(earlier) = revisions.at(revision) else {
            continue;
        };
        for (name, value) in signature_fields(earlier) {
            if let Ok(id) = value
                && value_gap(earlier, id).is_some_and(|g| !claimed.contains(&g))
            {
                removed.push((revision, name, id));
            }
        }
    }
    removed
}

/// The gap a signature dictionary's `/ByteRange` leaves for its value, as it says.
fn value_gap(document: &Document, id: ObjectId) -> Option<revisions::Gap> {
    let ranges = document
        .get_object(id)
        .ok()?
        .as_dict()
        .ok()?
        .get(b"ByteRange")
        .ok()?
        .as_array()
        .ok()?;
    let number = |index: usize| usize::try_from(ranges.get(index)?.as_i64().ok()?).ok();
    Some(number(1)?..number(2)?)
}

/// The certificates, CRLs and OCSP responses of the document security store.
fn dss(document: &Document) -> (Vec<X509>, trust::Revocation) {
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        document
            .catalog()
            .ok()
            .and_then(|c| c.get(b"DSS").ok())
            .and_then(|d| resolve(document, d))
            .and_then(|d| d.as_dict().ok())
            .and_then(|d| d.get(key).ok())
            .and_then(|l| resolve(document, l))
            .and_then(|l| l.as_array().ok())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        resolve(document, i)?
                            .as_stream()
                            .ok()?
                            .get_plain_content()
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let certs = streams(b"Certs")
        .iter()
        .filter_map(|d| cms::certificate(d))
        .collect();
    let revocation = trust::Revocation::from_der(&streams(b"CRLs"), &streams(b"OCSPs"));
    (certs, revocation)
}

/// `D:YYYYMMDDHHmmSS` with an optional offset, as `/M` writes it.
fn pdf_date(bytes: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix("D:").unwrap_or(&text);
    let digits: String = text.chars().take(14).collect();
    let local = chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S").ok()?;
    let rest = &text[digits.len().min(text.len())..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: String = rest[1..]
                .chars()
                .filter(char::is_ascii_digit)
                .take(4)
                .collect();
            let hours: i64 = nums.get(0..2)?.parse().ok()?;
            let minutes: i64 = nums.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = hours * 3600 + minutes * 60;
            if sign == '-' { -seconds } else { seconds }
        }
        _ => 0,
    };
    Some((local - chrono::Duration::seconds(offset)).and_utc())
}

/// Decodes a hex string's digits (white space allowed between them, an odd last digit padded
/// with 0, as ISO 32000 reads them); `None` when anything else stands there.
fn hex_digits(bytes: &[u8]) -> Option<Vec<u8>> {
    // Most values are an even run of digits alone: a table, two at a time.
    const INVALID: u8 = 0xff;
    const TABLE: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = match i as u8 {
                b @ b'0'..=b'9' => b - b'0',
                b @ b'a'..=b'f' => b - b'a' + 10,
                b @ b'A'..=b'F' => b - b'A' + 10,
                _ => INVALID,
            };
            i += 1;
        }
        table
    };
    if bytes.len().is_multiple_of(2) {
        let mut out = Vec::with_capacity(bytes.len() / 2);
        let mut bad = 0;
        for pair in bytes.chunks_exact(2) {
            let (high, low) = (TABLE[pair[0] as usize], TABLE[pair[1] as usize]);
            bad |= high | low;
            out.push((high << 4) | (low & 0x0f));
        }
        if bad < 16 {
            return Some(out);
        }
    }
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
    let mut high: Option<u8> = None;
    for &b in bytes {
        let value = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        match high.take() {
            Some(h) => out.push((h << 4) | value),
            None => high = Some(value),
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    Some(out)
}

/// A signature's byte range, checked, with the value it leaves out.
struct Ranges {
    ranges: [usize; 4],
    /// The revision the ranges end.
    revision: usize,
    /// The decoded `/Contents`.
    value: Vec<u8>,
    /// Bytes of the revision the ranges leave out besides the value: a gap wider than the
    /// value, or an end short of the revision's. The signature may be intact over what it
    /// covers, but what it leaves out is a change nobody signed.
    uncovered: usize,
}

/// The byte range of a signature, checked: four non-negative integers, the first 0, the gap
/// holding the hex string of this dictionary's `/Contents` (exactly, or with bytes it leaves
/// out, counted), the end the end of a revision (or short of it, counted). A gap among the
/// blanked ones is read from the file, and marked in `read_from_file`.
fn byte_range(
    revisions: &Revisions<'_, '_>,
    document: &Document,
    signature: &lopdf::Dictionary,
    id: ObjectId,
    read_from_file: &mut [bool],
) -> Result<Ranges, String> {
    let (pdf, ends) = (revisions.pdf, revisions.ends);
    let values = signature
        .get(b"ByteRange")
        .ok()
        .and_then(|r| r.as_array().ok())
        .ok_or("/ByteRange tidak ada")?;
    let numbers: Vec<usize> = values
        .iter()
        .filter_map(|v| v.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
        .collect();
    let [start, first, second, length] = numbers[..] else {
        return Err("/ByteRange tidak berisi empat bilangan bulat tak negatif".into());
    };
    if start != 0 {
        return Err("/ByteRange tidak dimulai dari 0".into());
    }
    let end = second
        .checked_add(length)
        .ok_or("/ByteRange melampaui berkas")?;
    if first >= second || end > pdf.len() || first == 0 {
        return Err("/ByteRange tidak sah".into());
    }
    // The value's own `<…>`: the gap itself, or (an anomaly, counted) inside it.
    let open = pdf[first..second]
        .iter()
        .position(|b| *b == b'<')
        .map(|at| first + at)
        .ok_or("celah /ByteRange bukan nilai /Contents")?;
    let close = pdf[open..second]
        .iter()
        .position(|b| *b == b'>')
        .map(|at| open + at)
        .ok_or("celah /ByteRange bukan nilai /Contents")?;
    let mut uncovered = (open - first) + (second - 1 - close);
    let contents = signature
        .get(b"Contents")
        .ok()
        .and_then(|c| c.as_str().ok())
        .ok_or("/Contents tidak ada")?;
    // Signature wrapping: the gap must be this dictionary's own /Contents, in the object that
    // defines it, not a string placed elsewhere.
    let before = &pdf[..open];
    let header = format!("{} {} obj", id.0, id.1);
    let object_start = before
        .windows(header.len())
        .rposition(|w| w == header.as_bytes())
        .ok_or("kamus tanda tangan tidak berada sebelum nilainya")?;
    let between = &before[object_start..];
    if between.windows(6).any(|w| w == b"endobj")
        || !between.trim_ascii_end().ends_with(b"/Contents")
    {
        return Err("nilai /Contents di luar kamus tanda tangannya".into());
    }
    // When the cross-reference points at that very object, the gap is the /Contents the
    // reader took from it (and read as hex digits), or blanked for it; else the gap is
    // decoded and compared.
    let gap = &pdf[open + 1..close];
    let decoded = || hex_digits(gap).ok_or("celah /ByteRange berisi selain digit heksadesimal");
    let defined_here = matches!(
        document.reference_table.get(id.0),
        Some(lopdf::xref::XrefEntry::Normal { offset, .. }) if *offset as usize == object_start
    );
    let blanked = revisions
        .gaps
        .iter()
        .position(|g| *g == (first..second) && uncovered == 0);
    let value = match (defined_here, blanked) {
        (true, Some(index)) => {
            let value = decoded()?;
            read_from_file[index] = true;
            value
        }
        (true, None) => contents.to_vec(),
        (false, _) => {
            let value = decoded()?;
            if value != contents {
                return Err("celah /ByteRange bukan /Contents tanda tangan ini".into());
            }
            value
        }
    };
    // A CMS begins with a SEQUENCE (an adbe.x509.rsa_sha1 value with an OCTET STRING); an
    // empty or zeroed /Contents does not.
    if !matches!(value.first(), Some(0x30 | 0x04)) {
        return Err("/Contents kosong atau bukan CMS".into());
    }
    let revision = match revisions::revision_ending_at(ends, end) {
        Some(revision) => revision,
        None => {
            let revision = ends
                .iter()
                .position(|(mark_end, _)| end < *mark_end)
                .ok_or("/ByteRange tidak berakhir pada akhir sebuah revisi")?;
            uncovered += ends[revision].0 - end;
            revision
        }
    };
    Ok(Ranges {
        ranges: [start, first, second, length],
        revision,
        value,
        uncovered,
    })
}

/// The document and each of its revisions, each read once, when first needed, all with the
/// same gaps blanked; and the file's SHA-256 as far as it got.
struct Revisions<'a, 'p> {
    pdf: &'a [u8],
    document: &'a Document,
    ends: &'a [(usize, usize)],
    gaps: &'a [revisions::Gap],
    prefix: &'a std::cell::RefCell<revisions::Prefix<'p>>,
    read: Vec<std::cell::OnceCell<Result<Document, String>>>,
}

impl Revisions<'_, '_> {
    /// The digest of a signature's signed bytes, `[0, first)` and `second`.
    fn signed_digest(&self, digest: cms::Digest, first: usize, second: &[u8]) -> Vec<u8> {
        match (digest, self.prefix.try_borrow_mut()) {
            (cms::Digest::Sha256, Ok(mut prefix)) => prefix.sha256_with(first, second).to_vec(),
            _ => digest.hash(&[&self.pdf[..first], second]),
        }
    }

    /// The document as revision `index` left it; the last revision is the document itself.
    fn at(&self, index: usize) -> Result<&Document, String> {
        let end = self.ends.get(index).map_or(self.pdf.len(), |(_, end)| *end);
        if self.pdf[end.min(self.pdf.len())..]
            .iter()
            .all(u8::is_ascii_whitespace)
        {
            return Ok(self.document);
        }
        match self.read.get(index) {
            Some(cell) => cell
                .get_or_init(|| {
                    let within: Vec<revisions::Gap> =
                        self.gaps.iter().filter(|g| g.end <= end).cloned().collect();
                    revisions::load_without(&self.pdf[..end], &within).map_err(|e| e.to_string())
                })
                .as_ref()
                .map_err(Clone::clone),
            None => Err("revisi tidak ada".into()),
        }
    }
}

/// What trust is judged on, gathered while integrity is checked: the signer's certificate,
/// what the signature carries to build its chain and show its status, the weak algorithms it
/// uses and its own time-stamp.
struct Evidence {
    certificate: X509,
    certificates: Vec<X509>,
    revocation: trust::Revocation,
    weak: Vec<policy::Weakness>,
    stamp: Option<Box<Evidence>>,
    /// For a time-stamp: the time it proves.
    at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Evidence {
    fn new(
        certificate: X509,
        certificates: Vec<X509>,
        revocation: trust::Revocation,
        digest: cms::Digest,
    ) -> Evidence {
        let weak = certificate
            .public_key()
            .map(|key| policy::weaknesses(digest, &key))
            .unwrap_or_default();
        Evidence {
            certificate,
            certificates,
            revocation,
            weak,
            stamp: None,
            at: None,
        }
    }

    fn of(parsed: cms::Parsed, digest: cms::Digest) -> Option<Evidence> {
        let revocation = trust::Revocation::from_der(&parsed.crls, &parsed.ocsps);
        Some(Evidence::new(
            parsed.certificate?,
            parsed.certificates,
            revocation,
            digest,
        ))
    }
}

/// Checks one signature field's signature: its byte range, its integrity, what changed after
/// it; with what its trust is to be judged on when it is intact. The field is `holder`'s: the
/// document's, or an earlier revision's for a signature a later one removed.
fn check_one(
    revisions: &Revisions<'_, '_>,
    holder: &Document,
    field: &str,
    value: Result<ObjectId, ()>,
    docmdp: Option<i64>,
    read_from_file: &mut [bool],
) -> (SignatureReport, Option<Evidence>) {
    let (pdf, document, ends) = (revisions.pdf, revisions.document, revisions.ends);
    let mut report = SignatureReport {
        field: field.to_owned(),
        kind: Kind::Signature,
        signer: None,
        signed_at: None,
        timestamp_at: None,
        level: None,
        integrity: Integrity::Broken,
        trust: Trust::Untrusted,
        changes_after: ChangesAfter::None,
        changes: Vec::new(),
        problems: Vec::new(),
        revision: 0,
    };
    let Ok(id) = value else {
        report
            .problems
            .push("kamus tanda tangan bukan objek tidak langsung".into());
        return (report, None);
    };
    let Some(signature) = holder.get_object(id).ok().and_then(|o| o.as_dict().ok()) else {
        report.problems.push("kamus tanda tangan tidak ada".into());
        return (report, None);
    };
    let sub_filter = signature
        .get(b"SubFilter")
        .ok()
        .and_then(|s| s.as_name().ok())
        .unwrap_or_default();
    if sub_filter == b"ETSI.RFC3161"
        || signature.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"DocTimeStamp")
    {
        report.kind = Kind::Timestamp;
    }
    report.signed_at = signature
        .get(b"M")
        .ok()
        .and_then(|m| m.as_str().ok())
        .and_then(pdf_date);
    let Ranges {
        ranges,
        revision,
        value: contents,
        uncovered,
    } = match byte_range(revisions, holder, signature, id, read_from_file) {
        Ok(found) => found,
        Err(problem) => {
            report.problems.push(problem);
            return (report, None);
        }
    };
    report.revision = revision;
    let contents = contents.as_slice();
    let signed_data: [&[u8]; 2] = [&pdf[..ranges[1]], &pdf[ranges[2]..ranges[2] + ranges[3]]];

    // Integrity.
    let checked = match (report.kind, sub_filter) {
        (Kind::Timestamp, _) => {
            time_stamp(contents, &signed_data).inspect(|stamp| report.timestamp_at = stamp.at)
        }
        (Kind::Signature, b"adbe.x509.rsa_sha1") => {
            legacy::check(holder, signature, contents, &signed_data).map(|checked| {
                Evidence::new(
                    checked.certificate,
                    checked.certificates,
                    trust::Revocation::default(),
                    checked.digest,
                )
            })
        }
        (Kind::Signature, _) => {
            let sha1 = sub_filter == b"adbe.pkcs7.sha1";
            check_signature(revisions, contents, &ranges, sha1, &mut report)
        }
    };
    let evidence = match checked {
        Ok(evidence) => evidence,
        Err(problem) => {
            report.problems.push(problem);
            return (report, None);
        }
    };
    report.integrity = Integrity::Intact;
    report.signer = Some(signer(&evidence.certificate));
    report
        .problems
        .extend(evidence.weak.iter().map(policy::Weakness::problem));
    // PAdES levels are CAdES signatures' (and document time-stamps'); the rest are named by
    // their format.
    report.level = match sub_filter {
        b"adbe.pkcs7.detached" => Some("PKCS#7".into()),
        b"adbe.pkcs7.sha1" | b"adbe.x509.rsa_sha1" => {
            Some(String::from_utf8_lossy(sub_filter).into_owned())
        }
        _ => None,
    };

    // What came after.
    match revisions.at(revision) {
        Ok(signed) => {
            let mut found = changes::compare(signed, document, docmdp);
            let last_end = ends.last().map_or(0, |(_, e)| *e);
            if pdf.len() > last_end && !pdf[last_end..].iter().all(u8::is_ascii_whitespace) {
                found.disallowed.push(format!(
                    "{} byte setelah %%EOF terakhir",
                    pdf.len() - last_end
                ));
            }
            if uncovered > 0 {
                found.disallowed.push(format!(
                    "/ByteRange tidak mencakup {uncovered} byte selain nilai tanda tangan"
                ));
            }
            report.changes_after = found.verdict();
            report.changes.extend(found.permitted);
            report.changes.extend(found.disallowed);
        }
        Err(error) => {
            report.changes_after = ChangesAfter::Disallowed;
            report
                .changes
                .push(format!("revisi yang ditandatangani tidak terbaca: {error}"));
        }
    }
    (report, Some(evidence))
}

/// Checks a time-stamp token over `data`: what its trust is judged on, at the time it proves.
fn time_stamp(token: &[u8], data: &[&[u8]]) -> Result<Evidence, String> {
    let stamp = cms::check_time_stamp(token, data)?;
    let digest = cms::digest_algorithm(&stamp.parsed)?;
    let mut evidence = Evidence::of(stamp.parsed, digest)
        .ok_or("sertifikat otoritas cap waktu tidak disertakan")?;
    evidence.at = Some(stamp.at);
    Ok(evidence)
}

/// Judges the trust of every intact signature and time-stamp, from the last revision back:
/// each at its validation time, the earliest time a trusted time-stamp proves it existed (its
/// own signature time-stamp, or a document time-stamp of a later revision), else now. A
/// time-stamp authority is judged the same way, at the time what covers it proves.
fn judge_trust(
    reports: &mut [SignatureReport],
    evidence: &[Option<Evidence>],
    roots: &Roots,
    dss_certs: &[X509],
    dss_revocation: &trust::Revocation,
) {
    let now = chrono::Utc::now();
    let mut order: Vec<usize> = (0..reports.len())
        .filter(|&i| evidence[i].is_some())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(reports[i].revision));
    // The document time-stamps found trusted: the revision each covers and its time.
    let mut proofs: Vec<(usize, chrono::DateTime<chrono::Utc>)> = Vec::new();
    let judge = |evidence: &Evidence, at, required| {
        let mut intermediates = evidence.certificates.clone();
        intermediates.extend(dss_certs.iter().cloned());
        let sources = [dss_revocation, &evidence.revocation];
        trust::check(
            roots,
            &evidence.certificate,
            &intermediates,
            &sources,
            at,
            required,
        )
    };
    for i in order {
        let Some(evidence) = &evidence[i] else {
            continue;
        };
        let report = &mut reports[i];
        if roots.is_empty() {
            report
                .problems
                .push("tidak ada akar kepercayaan yang diatur".into());
            continue;
        }
        let covered = proofs
            .iter()
            .filter(|(revision, _)| *revision > report.revision)
            .map(|(_, at)| *at)
            .min();
        let mut at = covered.map_or(now, |c| c.min(now));
        if let Some(stamp) = &evidence.stamp {
            let (trust, why) = judge(stamp, at, false);
            match (trust, stamp.at) {
                (Trust::Trusted, Some(proven)) => at = at.min(proven),
                _ => report.problems.push(format!(
                    "cap waktu tanda tangan tidak terpercaya: {}",
                    why.join("; ")
                )),
            }
        }
        let (mut trust, why) = judge(evidence, at, report.kind == Kind::Signature);
        report.problems.extend(why);
        if evidence.weak.iter().any(|w| w.fails_at(at)) {
            if trust == Trust::Trusted {
                trust = Trust::Indeterminate;
            }
            report.problems.push(format!(
                "algoritma tidak lagi diterima pada waktu validasi {}",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        report.trust = trust;
        if report.kind == Kind::Timestamp
            && report.trust == Trust::Trusted
            && let Some(proven) = evidence.at
        {
            proofs.push((report.revision, proven));
        }
    }
}

fn signer(certificate: &X509) -> Signer {
    let (name, nip, position) = cms::subject(certificate);
    Signer {
        name,
        nip,
        position,
    }
}

/// Checks a signature's CMS over the bytes its `ranges` cover (or, for `adbe.pkcs7.sha1`,
/// over the SHA-1 digest of those bytes that it encapsulates), and its time-stamp token if it
/// has one.
fn check_signature(
    revisions: &Revisions<'_, '_>,
    contents: &[u8],
    ranges: &[usize; 4],
    sha1: bool,
    report: &mut SignatureReport,
) -> Result<Evidence, String> {
    let parsed = cms::parse(contents)?;
    // Who it claims to be, shown even when the signature does not hold.
    report.signer = parsed.certificate.as_ref().map(signer);
    let digest = cms::digest_algorithm(&parsed)?;
    let second = &revisions.pdf[ranges[2]..ranges[2] + ranges[3]];
    let parts = [&revisions.pdf[..ranges[1]], second];
    if sha1 {
        let encapsulated = parsed
            .content
            .econtent
            .as_ref()
            .and_then(|c| c.decode_as::<der::asn1::OctetString>().ok())
            .ok_or("adbe.pkcs7.sha1 tanpa digest dokumen di dalamnya")?;
        if encapsulated.as_bytes() != cms::Digest::Sha1.hash(&parts) {
            return Err("digest dokumen tidak sama dengan yang ditandatangani".into());
        }
        let inner = [encapsulated.as_bytes()];
        let content = cms::Content {
            parts: &inner,
            digest: digest.hash(&inner),
        };
        cms::check(&parsed, &content, crate::signing::cms::ID_DATA)?;
    } else {
        let content = cms::Content {
            parts: &parts,
            digest: revisions.signed_digest(digest, ranges[1], second),
        };
        cms::check(&parsed, &content, crate::signing::cms::ID_DATA)?;
    }
    if report.signed_at.is_none() {
        report.signed_at = cms::signing_time(&parsed.signer);
    }
    let token = cms::signature_time_stamp_token(&parsed.signer);
    let stamp =
        token.and_then(
            |token| match time_stamp(&token, &[parsed.signer.signature.as_bytes()]) {
                Ok(stamp) => {
                    report.timestamp_at = stamp.at;
                    Some(Box::new(stamp))
                }
                Err(problem) => {
                    report
                        .problems
                        .push(format!("cap waktu tanda tangan: {problem}"));
                    None
                }
            },
        );
    let mut evidence =
        Evidence::of(parsed, digest).ok_or("sertifikat penanda tangan tidak disertakan")?;
    evidence.stamp = stamp;
    Ok(evidence)
}

/// The PAdES level of each signature: B-T with a time-stamp, B-LT when a later revision added
/// validation data, B-LTA when a document time-stamp covers validation data added after the
/// signature (CAdES signatures; PKCS#7 and legacy ones keep the name of their format). The DSS
/// of each revision is compared by the objects it reaches, so that producers who grow it in
/// place (pyHanko adds the time-stamp authority's data after the time-stamp) are read alike.
fn assign_levels(reports: &mut [SignatureReport], revisions: &Revisions<'_, '_>) {
    let dss_at = |revision: usize| {
        revisions
            .at(revision)
            .map(changes::dss_objects)
            .unwrap_or_default()
    };
    let current = changes::dss_objects(revisions.document);
    let stamps: Vec<usize> = reports
        .iter()
        .filter(|r| r.kind == Kind::Timestamp && r.integrity == Integrity::Intact)
        .map(|r| r.revision)
        .collect();
    for report in reports.iter_mut().filter(|r| {
        r.kind == Kind::Signature && r.integrity == Integrity::Intact && r.level.is_none()
    }) {
        let signed = dss_at(report.revision);
        let added = |dss: &std::collections::BTreeSet<ObjectId>| !dss.is_subset(&signed);
        let timestamped =
            report.timestamp_at.is_some() || stamps.iter().any(|&s| s > report.revision);
        let long_term = timestamped && added(&current);
        let archived = long_term
            && stamps
                .iter()
                .any(|&s| s > report.revision && added(&dss_at(s)));
        report.level = Some(
            match (timestamped, long_term, archived) {
                (_, _, true) => "B-LTA",
                (_, true, _) => "B-LT",
                (true, _, _) => "B-T",
                _ => "B-B",
            }
            .to_owned(),
        );
    }
}
