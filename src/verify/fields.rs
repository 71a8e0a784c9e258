//! Where a document's signatures are and what they cover: the form's signature fields (and
//! those a later revision took out of it), and each one's `/ByteRange` checked against the
//! file, with the value it leaves out decoded.

use lopdf::{Document, Object, ObjectId};

use super::{Revisions, resolve, revisions};

/// The most signature fields followed through the form, against crafted field trees.
const MAX_FIELDS: usize = 1_000;

/// The form's signed signature fields, with their (fully qualified) names and the reference
/// to their signature dictionary (`None` when it is not an indirect object).
pub(super) fn signature_fields(document: &Document) -> Vec<(String, Result<ObjectId, ()>)> {
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

/// The most earlier revisions read in search of removed signatures.
const MAX_REVISIONS_SEARCHED: usize = 32;

/// Signatures that an earlier revision's form held and the document's form no longer does:
/// their values lie in the file, claimed by no field of the last revision. Each with the
/// revision whose form holds it, its field's name and its signature dictionary. Only the
/// revisions such a value ends in are read.
pub(super) fn removed_signatures(
    revisions: &Revisions<'_, '_>,
    fields: &[(String, Result<ObjectId, ()>)],
) -> Vec<(usize, String, ObjectId)> {
    let claimed: Vec<revisions::Gap> = fields
        .iter()
        .filter_map(|(_, value)| value_gap(revisions.document, *value.as_ref().ok()?))
        .collect();
    let mut removed = Vec::new();
    let mut read = std::collections::BTreeSet::new();
    for gap in revisions.values.iter().cloned() {
        if claimed.contains(&gap) {
            continue;
        }
        let Some(revision) = revisions.ends.iter().position(|(_, end)| gap.end <= *end) else {
            continue;
        };
        if revision + 1 >= revisions.ends.len() || read.contains(&revision) {
            continue;
        }
        // Each revision read is a parse of the file up to it: a crafted file of many stray
        // values gets no more than this many.
        if read.len() == MAX_REVISIONS_SEARCHED {
            break;
        }
        read.insert(revision);
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
pub(super) fn value_gap(document: &Document, id: ObjectId) -> Option<revisions::Gap> {
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

/// Decodes a hex string's digits (white space allowed between them, an odd last digit padded
/// with 0, as ISO 32000 reads them); `None` when anything else stands there.
pub(super) fn hex_digits(bytes: &[u8]) -> Option<Vec<u8>> {
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
pub(super) struct Ranges {
    pub(super) ranges: [usize; 4],
    /// The revision the ranges end.
    pub(super) revision: usize,
    /// The decoded `/Contents`.
    pub(super) value: Vec<u8>,
    /// Bytes of the revision the ranges leave out besides the value: a gap wider than the
    /// value, or an end short of the revision's. The signature may be intact over what it
    /// covers, but what it leaves out is a change nobody signed.
    pub(super) uncovered: usize,
}

/// The byte range of a signature, checked: four non-negative integers, the first 0, the gap
/// holding the hex string of this dictionary's `/Contents` (exactly, or with bytes it leaves
/// out, counted), the end the end of a revision (or short of it, counted). A gap among the
/// blanked ones is read from the file, and marked in `read_from_file`.
pub(super) fn byte_range(
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
    // The value's own `<…>`: the gap itself (its digits are checked below), or (an anomaly,
    // counted) inside it.
    let (open, close) = if pdf[first] == b'<' && pdf[second - 1] == b'>' {
        (first, second - 1)
    } else {
        let open = memchr::memchr(b'<', &pdf[first..second])
            .map(|at| first + at)
            .ok_or("celah /ByteRange bukan nilai /Contents")?;
        let close = memchr::memchr(b'>', &pdf[open..second])
            .map(|at| open + at)
            .ok_or("celah /ByteRange bukan nilai /Contents")?;
        (open, close)
    };
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
