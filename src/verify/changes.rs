//! What changed after a signature: the parsed object graph of the signed revision against the
//! document as it stands, object by object, not text against text. Only what a signed letter
//! may gain is permitted: later signatures and their fields (filling an empty signature field
//! where DocMDP allows it), the DSS, document time-stamps. Everything else is named: page
//! content, resources, fonts or XObjects redefined, pages added or removed, annotations,
//! catalog changes, objects removed. Shadow attacks (content hidden in the signed revision and
//! revealed or swapped later) all need one of those, and are caught with them.
//!
//! The permitted list follows pyHanko's default difference policy where a letter can meet it
//! (the DSS however its producer writes it, validation data, document time-stamps, new
//! signature fields, empty ones signed with pyHanko's value-update keys and their appearance),
//! and parts from it on purpose in two places: filling a form field that is not a signature
//! (pyHanko: FORM_FILLING, acceptable) changes what a page shows, and a letter has no such
//! fields; bytes after the last end of file (pyHanko lets them pass) are named by the caller.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};
use serde::Serialize;

/// Whether anything followed a signature, and whether it was permitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangesAfter {
    None,
    Permitted,
    Disallowed,
}

/// The changes found: what was permitted and what was not, each named.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub permitted: Vec<String>,
    pub disallowed: Vec<String>,
}

impl Found {
    pub fn verdict(&self) -> ChangesAfter {
        if !self.disallowed.is_empty() {
            ChangesAfter::Disallowed
        } else if !self.permitted.is_empty() {
            ChangesAfter::Permitted
        } else {
            ChangesAfter::None
        }
    }
}

/// Two objects with the same value; a stream's place in the file is not part of its value,
/// nor is how a number is written (`320` and `320.0` are one number: producers rewrite the
/// dictionaries they touch in their own style).
fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(a), Object::Stream(b)) => {
            same_dict(&a.dict, &b.dict) && a.content == b.content
        }
        (Object::Integer(x), Object::Real(y)) | (Object::Real(y), Object::Integer(x)) => {
            *x as f64 == f64::from(*y)
        }
        (Object::Array(a), Object::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Object::Dictionary(a), Object::Dictionary(b)) => same_dict(a, b),
        _ => a == b,
    }
}

fn same_dict(a: &Dictionary, b: &Dictionary) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(key, x)| b.get(key).is_ok_and(|y| same(x, y)))
}

/// The keys whose values differ between two dictionaries (present in one only, or unlike).
fn differing_keys(b: &Dictionary, a: &Dictionary) -> Vec<Vec<u8>> {
    let keys: BTreeSet<Vec<u8>> = b.iter().chain(a.iter()).map(|(k, _)| k.clone()).collect();
    keys.into_iter()
        .filter(|k| match (b.get(k), a.get(k)) {
            (Ok(x), Ok(y)) => !same(x, y),
            (Err(_), Err(_)) => false,
            _ => true,
        })
        .collect()
}

/// What signing an empty signature field may change in it (or its widget): pyHanko's list
/// of value-update keys: the value, the appearance and its state, the annotation and field
/// flags, the default appearance, the quadding, the type.
const FILLING_KEYS: [&[u8]; 8] = [b"V", b"AP", b"AS", b"F", b"DA", b"Q", b"Ff", b"Type"];

/// Empty signature fields a later revision signed, and what their signing may touch.
#[derive(Default)]
struct Filling {
    /// The fields and their widget kids: they may change in [`FILLING_KEYS`], and the new
    /// objects their appearance draws from come with them.
    widgets: BTreeSet<ObjectId>,
    /// Their appearance dictionaries and streams rewritten under the same numbers (some
    /// producers draw the signed field that way), when nothing but the widget uses them.
    in_place: BTreeSet<ObjectId>,
}

impl Filling {
    fn of(signed: &Document, current: &Document) -> Filling {
        let mut filling = Filling::default();
        for (id, before) in &signed.objects {
            let Some(b) = dict_of(before) else {
                continue;
            };
            let Some(a) = current.objects.get(id).and_then(dict_of) else {
                continue;
            };
            if !is_signature_field(b) || b.has(b"V") || !a.has(b"V") {
                continue;
            }
            filling.widgets.insert(*id);
            if let Ok(Object::Array(kids)) = a.get(b"Kids") {
                filling
                    .widgets
                    .extend(kids.iter().filter_map(|k| k.as_reference().ok()));
            }
        }
        let mut candidates: Vec<(ObjectId, ObjectId)> = Vec::new();
        for widget in &filling.widgets {
            let (Some(b), Some(a)) = (
                signed.objects.get(widget).and_then(dict_of),
                current.objects.get(widget).and_then(dict_of),
            ) else {
                continue;
            };
            let (Ok(old_ap), Ok(new_ap)) = (b.get(b"AP"), a.get(b"AP")) else {
                continue;
            };
            if let (Object::Reference(x), Object::Reference(y)) = (old_ap, new_ap)
                && x == y
            {
                candidates.push((*x, *widget));
            }
            let entries = |document: &Document, ap: &Object| -> Vec<Option<ObjectId>> {
                let ap = resolve(document, ap).and_then(|d| d.as_dict().ok());
                [b"N".as_slice(), b"R", b"D"]
                    .map(|key| {
                        ap.and_then(|d| d.get(key).ok())
                            .and_then(|o| o.as_reference().ok())
                    })
                    .to_vec()
            };
            for (x, y) in entries(signed, old_ap)
                .into_iter()
                .zip(entries(current, new_ap))
            {
                if let (Some(x), Some(y)) = (x, y)
                    && x == y
                {
                    candidates.push((x, *widget));
                }
            }
        }
        candidates.retain(|(id, _)| {
            matches!((signed.objects.get(id), current.objects.get(id)), (Some(b), Some(a)) if !same(b, a))
        });
        if candidates.is_empty() {
            return filling;
        }
        // Who refers to each candidate: the widget alone, or its appearance dictionary.
        let wanted: BTreeSet<ObjectId> = candidates.iter().map(|(id, _)| *id).collect();
        let mut referrers: std::collections::BTreeMap<ObjectId, BTreeSet<ObjectId>> =
            std::collections::BTreeMap::new();
        for (id, object) in &current.objects {
            let mut refs = Vec::new();
            collect(object, &mut refs);
            for target in refs.into_iter().filter(|r| wanted.contains(r)) {
                referrers.entry(target).or_default().insert(*id);
            }
        }
        for (id, widget) in &candidates {
            let own: BTreeSet<ObjectId> = wanted
                .iter()
                .copied()
                .chain(std::iter::once(*widget))
                .collect();
            if referrers
                .get(id)
                .is_some_and(|by| !by.is_empty() && by.is_subset(&own))
            {
                filling.in_place.insert(*id);
            }
        }
        filling
    }
}

fn name_of(dict: &Dictionary, key: &[u8]) -> Option<String> {
    dict.get(key)
        .ok()
        .and_then(|o| o.as_name().ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

/// How an object is named in a finding: its number and what it is.
fn describe(id: ObjectId, object: &Object) -> String {
    let dict = match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    };
    let what = dict
        .and_then(|d| {
            name_of(d, b"Type")
                .map(|t| match name_of(d, b"Subtype") {
                    Some(sub) => format!("{t}/{sub}"),
                    None => t,
                })
                .or_else(|| name_of(d, b"Subtype"))
        })
        .unwrap_or_else(|| match object {
            Object::Stream(_) => "stream".into(),
            Object::Array(_) => "array".into(),
            Object::Dictionary(_) => "dictionary".into(),
            _ => "value".into(),
        });
    format!("objek {} ({what})", id.0)
}

/// The ids reachable from `root` through references, within `document`.
fn reachable(document: &Document, roots: &[ObjectId]) -> BTreeSet<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<ObjectId> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Ok(object) = document.get_object(id) {
            collect(object, &mut stack);
        }
    }
    seen
}

fn collect(object: &Object, into: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => into.push(*id),
        Object::Array(items) => items.iter().for_each(|o| collect(o, into)),
        Object::Dictionary(d) => d.iter().for_each(|(_, o)| collect(o, into)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, o)| collect(o, into)),
        _ => {}
    }
}

fn dict_of(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn is_signature_field(dict: &Dictionary) -> bool {
    name_of(dict, b"FT").as_deref() == Some("Sig")
}

fn is_signature_value(dict: &Dictionary) -> bool {
    matches!(
        name_of(dict, b"Type").as_deref(),
        Some("Sig") | Some("DocTimeStamp")
    ) || (dict.has(b"ByteRange") && dict.has(b"Contents"))
}

/// The references the catalog's `/DSS` holds: the DSS itself when it is an indirect object,
/// else what its direct dictionary points at. Producers differ: the DSS with or without
/// `/Type`, its arrays direct or indirect, its VRI dictionaries with or without `/Type`.
fn dss_roots(document: &Document) -> Vec<ObjectId> {
    let mut roots = Vec::new();
    if let Some(dss) = document.catalog().ok().and_then(|c| c.get(b"DSS").ok()) {
        collect(dss, &mut roots);
    }
    roots
}

/// The objects the DSS reaches: the validation data a revision holds, as ids.
pub fn dss_objects(document: &Document) -> BTreeSet<ObjectId> {
    reachable(document, &dss_roots(document))
}

/// The objects only the DSS reaches: validation data that a later revision may update in
/// place (pyHanko and others grow the DSS and its arrays), but nothing a page, the form or
/// anything else of the document uses, so that no change to what a page shows can pass as
/// one to the DSS.
fn dss_only(document: &Document) -> BTreeSet<ObjectId> {
    let mut dss = dss_objects(document);
    if dss.is_empty() {
        return dss;
    }
    let mut others = Vec::new();
    if let Ok(catalog) = document.catalog() {
        for (key, value) in catalog.iter() {
            if key != b"DSS" {
                collect(value, &mut others);
            }
        }
    }
    for key in [b"Info".as_slice(), b"Encrypt"] {
        if let Ok(value) = document.trailer.get(key) {
            collect(value, &mut others);
        }
    }
    let others = reachable(document, &others);
    dss.retain(|id| !others.contains(id));
    dss
}

/// The objects of a later revision that a permitted addition may bring: signature values,
/// signature fields and their appearance, the DSS and what it holds.
fn allowed_new(
    document: &Document,
    new: &BTreeSet<ObjectId>,
    filled: &BTreeSet<ObjectId>,
) -> BTreeSet<ObjectId> {
    let mut allowed = BTreeSet::new();
    let mut roots = dss_roots(document);
    // The appearance of a signature field signed in place.
    for id in filled {
        if let Some(ap) = document
            .get_object(*id)
            .ok()
            .and_then(dict_of)
            .and_then(|d| d.get(b"AP").ok())
        {
            collect(ap, &mut roots);
        }
    }
    for id in new {
        let Ok(object) = document.get_object(*id) else {
            continue;
        };
        let Some(dict) = dict_of(object) else {
            continue;
        };
        match name_of(dict, b"Type").as_deref() {
            // Cross-reference and object streams are the file's own structure.
            Some("XRef") | Some("ObjStm") => {
                allowed.insert(*id);
            }
            Some("DSS") | Some("VRI") => roots.push(*id),
            _ if is_signature_value(dict) => {
                allowed.insert(*id);
            }
            _ if is_signature_field(dict) => {
                allowed.insert(*id);
                // Its appearance, drawn from objects of its own.
                if let Ok(ap) = dict.get(b"AP") {
                    let mut refs = Vec::new();
                    collect(ap, &mut refs);
                    roots.extend(refs);
                }
            }
            _ => {}
        }
    }
    for id in reachable(document, &roots) {
        if new.contains(&id) {
            allowed.insert(id);
        }
    }
    allowed
}

/// Compares `signed` (the revision a signature covers) with `current` (the document as it
/// stands) under DocMDP permission `docmdp` (1, 2, 3, or none when not certified).
pub fn compare(signed: &Document, current: &Document, docmdp: Option<i64>) -> Found {
    let mut found = Found::default();
    // The signed revision is the document: nothing came after it.
    if std::ptr::eq(signed, current) {
        return found;
    }
    let new: BTreeSet<ObjectId> = current
        .objects
        .keys()
        .filter(|id| !signed.objects.contains_key(id))
        .copied()
        .collect();
    let may_sign = docmdp != Some(1);
    let filling = if may_sign {
        Filling::of(signed, current)
    } else {
        Filling::default()
    };
    let allowed = allowed_new(current, &new, &filling.widgets);
    // Annotation arrays and field lists may grow by the new signature fields.
    let signature_fields: BTreeSet<ObjectId> = new
        .iter()
        .filter(|id| {
            current
                .get_object(**id)
                .ok()
                .and_then(dict_of)
                .is_some_and(is_signature_field)
        })
        .copied()
        .collect();
    // The document information dictionary and the XMP metadata stream: what a signer may
    // update (pyHanko does) without changing what the letter shows.
    let metadata: BTreeSet<ObjectId> = [
        current
            .trailer
            .get(b"Info")
            .ok()
            .and_then(|i| i.as_reference().ok()),
        current
            .catalog()
            .ok()
            .and_then(|c| c.get(b"Metadata").ok())
            .and_then(|m| m.as_reference().ok()),
    ]
    .into_iter()
    .flatten()
    .collect();

    for id in &new {
        if allowed.contains(id) {
            continue;
        }
        if metadata.contains(id) {
            found.permitted.push("metadata dokumen diperbarui".into());
            continue;
        }
        let Ok(object) = current.get_object(*id) else {
            continue;
        };
        let grows_list = matches!(object, Object::Array(items) if items.iter().all(|o| o.as_reference().is_ok_and(|r| signature_fields.contains(&r) || signed.objects.contains_key(&r))));
        if grows_list {
            continue;
        }
        let what = match dict_of(object).and_then(|d| name_of(d, b"Type")).as_deref() {
            Some("Page") => "halaman ditambahkan".to_owned(),
            Some("Annot") => "anotasi ditambahkan".to_owned(),
            _ if dict_of(object).is_some_and(|d| d.has(b"Subtype") && d.has(b"Rect")) => {
                "anotasi ditambahkan".to_owned()
            }
            _ => "objek baru".to_owned(),
        };
        found
            .disallowed
            .push(format!("{what}: {}", describe(*id, object)));
    }
    if !signature_fields.is_empty() {
        let permitted = format!("{} kolom tanda tangan ditambahkan", signature_fields.len());
        if may_sign {
            found.permitted.push(permitted);
        } else {
            found.disallowed.push(format!(
                "{permitted}, padahal sertifikasi tidak mengizinkan perubahan"
            ));
        }
    }
    if dss_roots(current).iter().any(|id| new.contains(id)) {
        found
            .permitted
            .push("DSS (data validasi) ditambahkan".into());
    }

    let dss_only = std::cell::OnceCell::new();
    for (id, before) in &signed.objects {
        let Some(after) = current.objects.get(id) else {
            found
                .disallowed
                .push(format!("{} dihapus", describe(*id, before)));
            continue;
        };
        if same(before, after) {
            continue;
        }
        if metadata.contains(id) {
            found.permitted.push("metadata dokumen diperbarui".into());
            continue;
        }
        if filling.in_place.contains(id) {
            found
                .permitted
                .push("tampilan kolom tanda tangan kosong digambar ulang".into());
            continue;
        }
        if let (true, Some(b), Some(a)) = (
            filling.widgets.contains(id),
            dict_of(before),
            dict_of(after),
        ) && differing_keys(b, a)
            .iter()
            .all(|k| FILLING_KEYS.contains(&k.as_slice()))
        {
            found
                .permitted
                .push("kolom tanda tangan kosong diisi".into());
            continue;
        }
        let is_dss_data = || {
            dss_only
                .get_or_init(|| self::dss_only(current))
                .contains(id)
        };
        match changed(
            *id,
            before,
            after,
            signed,
            current,
            &signature_fields,
            is_dss_data,
        ) {
            Ok(Some(note)) => found.permitted.push(note),
            Ok(None) => {}
            Err(note) => found.disallowed.push(note),
        }
    }
    let pages_before = signed.get_pages().len();
    let pages_after = current.get_pages().len();
    if pages_before != pages_after {
        found.disallowed.push(format!(
            "jumlah halaman berubah dari {pages_before} menjadi {pages_after}"
        ));
    }
    found.permitted.sort();
    found.permitted.dedup();
    found
}

/// Judges one object that a later revision changed: Ok with a note when the change is one a
/// signed letter may gain, Ok(None) when it is part of one already noted, Err naming it
/// otherwise. `is_dss_data` says whether only the DSS reaches the object.
fn changed(
    id: ObjectId,
    before: &Object,
    after: &Object,
    signed: &Document,
    current: &Document,
    signature_fields: &BTreeSet<ObjectId>,
    is_dss_data: impl FnOnce() -> bool,
) -> Result<Option<String>, String> {
    let disallowed = || format!("{} diubah", describe(id, before));
    // The DSS, its VRI dictionaries and its arrays grow in place; a stream of it (a
    // certificate, a CRL, an OCSP response) is added, never rewritten.
    let data = matches!(
        (before, after),
        (Object::Dictionary(_), Object::Dictionary(_)) | (Object::Array(_), Object::Array(_))
    );
    if data && is_dss_data() {
        return Ok(Some("DSS (data validasi) diperbarui".into()));
    }
    match (before, after) {
        (Object::Dictionary(b), Object::Dictionary(a)) => {
            let differing = differing_keys(b, a);
            let only =
                |allowed: &[&[u8]]| differing.iter().all(|k| allowed.contains(&k.as_slice()));
            match name_of(b, b"Type").as_deref() {
                Some("Catalog") => {
                    // The catalog may point at a (new) form and DSS, and name the PAdES
                    // extension; a new /Perms would certify after the fact.
                    if only(&[b"AcroForm", b"DSS", b"Extensions", b"Metadata"]) {
                        return Ok(None);
                    }
                    let changed = differing.iter().filter(|k| {
                        !matches!(
                            k.as_slice(),
                            b"AcroForm" | b"DSS" | b"Extensions" | b"Metadata"
                        )
                    });
                    return Err(format!("katalog dokumen diubah: {}", key_list(changed)));
                }
                Some("Page") => {
                    if only(&[b"Annots"])
                        && grows_by_signatures(
                            b.get(b"Annots").ok(),
                            a.get(b"Annots").ok(),
                            signed,
                            current,
                            signature_fields,
                        )
                    {
                        return Ok(None);
                    }
                    return Err(format!(
                        "halaman ({}) diubah: {}",
                        describe(id, before),
                        key_list(differing.iter())
                    ));
                }
                _ => {}
            }
            // A signed field stays as it was signed, its appearance too (as pyHanko holds:
            // a widget drawn anew could show another name or another verdict).
            if is_signature_field(b) && b.has(b"V") {
                return Err(format!(
                    "kolom tanda tangan yang sudah ditandatangani diubah ({}): {}",
                    describe(id, before),
                    key_list(differing.iter())
                ));
            }
            // The form: its field list may grow by signature fields, its flags say so.
            if b.has(b"Fields")
                && only(&[
                    b"Fields",
                    b"SigFlags",
                    b"DR",
                    b"DA",
                    b"Q",
                    b"NeedAppearances",
                ])
                && grows_by_signatures(
                    b.get(b"Fields").ok(),
                    a.get(b"Fields").ok(),
                    signed,
                    current,
                    signature_fields,
                )
            {
                return Ok(None);
            }
            Err(disallowed())
        }
        (Object::Array(_), Object::Array(_)) => {
            if grows_by_signatures(Some(before), Some(after), signed, current, signature_fields) {
                Ok(None)
            } else {
                Err(disallowed())
            }
        }
        _ => Err(disallowed()),
    }
}

/// Dictionary keys as a finding names them: `/Contents, /Resources`.
fn key_list<'a>(keys: impl Iterator<Item = &'a Vec<u8>>) -> String {
    keys.map(|k| format!("/{}", String::from_utf8_lossy(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a list (direct or referenced) only gained new signature fields: every earlier
/// element still there in order, every new one a new signature field.
fn grows_by_signatures(
    before: Option<&Object>,
    after: Option<&Object>,
    signed: &Document,
    current: &Document,
    signature_fields: &BTreeSet<ObjectId>,
) -> bool {
    let list = |document: &Document, o: Option<&Object>| -> Option<Vec<Object>> {
        match o {
            None => Some(Vec::new()),
            Some(o) => resolve(document, o)?.as_array().ok().cloned(),
        }
    };
    let (Some(old), Some(new)) = (list(signed, before), list(current, after)) else {
        return false;
    };
    new.len() >= old.len()
        && new[..old.len()] == old[..]
        && new[old.len()..].iter().all(|o| {
            o.as_reference()
                .is_ok_and(|r| signature_fields.contains(&r))
        })
}

/// The DocMDP permission of the certification signature in `document`, if it is certified.
pub fn docmdp(document: &Document) -> Option<i64> {
    crate::signing::pdf::docmdp_permission(document, document.catalog().ok()?)
}

fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    crate::signing::pdf::resolve(document, object).ok()
}
