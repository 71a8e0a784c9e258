//! A signature's place in the PDF, added as an incremental update: the earlier bytes are kept
//! as they are, and after them come the new and changed objects (signature dictionary, field
//! and widget, the page's annotation list, the form, the catalog), a cross-reference section
//! in the form the file already uses, and a trailer pointing back to the previous one.
//!
//! The update is written with a placeholder for the signature's byte ranges and contents; the
//! bytes to sign are then everything but the contents' hex string, and the CMS goes into the
//! placeholder without moving a byte.

use std::ops::Range;

use chrono::{DateTime, Utc};
use lopdf::{
    Dictionary, Document, IncrementalDocument, LoadOptions, Object, ObjectId, StringFormat,
};

/// The largest PDF naskah signs: official letters are a few hundred kilobytes.
pub const MAX_INPUT: usize = 64 << 20;
/// No single stream of an input may inflate past this while it is read.
const MAX_STREAM: usize = 64 << 20;
/// The placeholder of a byte range number: ten digits, enough for any file naskah signs.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Why a PDF cannot take a signature; the messages are what the signer reads.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("berkas PDF terlalu besar ({0} byte; batas {MAX_INPUT})")]
    TooLarge(usize),
    #[error("berkas PDF tidak dapat dibaca: {0}")]
    Unreadable(String),
    #[error("berkas PDF terenkripsi tidak dapat ditandatangani")]
    Encrypted,
    #[error("halaman {page} tidak ada (dokumen {pages} halaman)")]
    NoSuchPage { page: u32, pages: usize },
    #[error("dokumen ini disertifikasi tanpa izin perubahan; tanda tangan baru tidak diizinkan")]
    NoChangesAllowed,
    #[error("sertifikasi (DocMDP) hanya boleh pada tanda tangan pertama")]
    CertifyNotFirst,
    #[error("nama kolom tanda tangan '{0}' tidak sah: tidak boleh kosong atau memuat titik")]
    FieldName(String),
    #[error("kolom tanda tangan '{0}' sudah ditandatangani")]
    FieldSigned(String),
    #[error("kolom tanda tangan '{0}' sudah ada")]
    FieldExists(String),
    #[error("tanda tangan ({need} byte) melebihi ruang yang disediakan ({room} byte)")]
    NoRoom { need: usize, room: usize },
    #[error("pembaruan PDF tidak dapat ditulis: {0}")]
    Write(String),
}

type Result<T> = std::result::Result<T, PdfError>;

/// A rectangle in PDF user space (points from the page's lower left corner).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// What kind of signature dictionary to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An official's PAdES signature (`/ETSI.CAdES.detached`); `certify` makes it the
    /// certification signature, DocMDP P=2.
    Signature { certify: bool },
    /// A document time-stamp (`/ETSI.RFC3161`), for B-LTA.
    DocTimeStamp,
}

/// The signature field to add.
#[derive(Clone, Debug)]
pub struct Field<'a> {
    /// The field's name; by default the next free `Signature1`, `Signature2`, ….
    pub name: Option<String>,
    pub kind: Kind,
    /// 1-based.
    pub page: u32,
    /// Where the widget sits; `None` for an invisible signature (a paraf, a time-stamp).
    pub rect: Option<Rect>,
    pub reason: Option<&'a str>,
    pub location: Option<&'a str>,
    /// The claimed signing time, `/M`.
    pub signed_at: DateTime<Utc>,
    /// Bytes kept for the CMS (or the time-stamp token).
    pub room: usize,
    /// Empty signature fields to create for later signers, with their widgets. A certified
    /// letter gets them with its certification: a later signer then fills a field the
    /// certifier made, which DocMDP P=2 allows, instead of adding a visible one.
    pub reserve: Vec<Reserved>,
}

/// An empty signature field for a later signer.
#[derive(Clone, Debug)]
pub struct Reserved {
    pub name: String,
    /// 1-based.
    pub page: u32,
    pub rect: Rect,
}

/// A PDF with the update written and its signature contents still empty.
#[derive(Debug)]
pub struct Prepared {
    bytes: Vec<u8>,
    /// The hex digits of `/Contents`, between `<` and `>`.
    contents: Range<usize>,
    pub field_name: String,
}

impl Prepared {
    /// The SHA-256 of the signed byte ranges: all but the contents' hex string with its
    /// delimiters.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(&self.bytes[..self.contents.start - 1]);
        hasher.update(&self.bytes[self.contents.end + 1..]);
        hasher.finish()
    }

    /// Puts `der` into the contents placeholder, zero-padded, and returns the signed file.
    pub fn finish(mut self, der: &[u8]) -> Result<Vec<u8>> {
        let room = self.contents.len() / 2;
        if der.len() > room {
            return Err(PdfError::NoRoom {
                need: der.len(),
                room,
            });
        }
        let digits = crate::digest::hex(der);
        let start = self.contents.start;
        self.bytes[start..start + digits.len()].copy_from_slice(digits.as_bytes());
        Ok(self.bytes)
    }
}

/// The most objects a PDF may hold: letters hold a few hundred.
const MAX_OBJECTS: usize = 200_000;

/// Reads `input` within naskah's limits (size, inflated streams, object count). `strict` for
/// the signer, since a file repaired on reading would be signed as something it is not; lenient
/// for the verifier, which must read what it is shown, as viewers do, and judge it.
pub fn read(input: &[u8], strict: bool) -> Result<Document> {
    if input.len() > MAX_INPUT {
        return Err(PdfError::TooLarge(input.len()));
    }
    let options = LoadOptions {
        strict,
        max_decompressed_size: Some(MAX_STREAM),
        ..LoadOptions::default()
    };
    let document = Document::load_mem_with_options(input, options)
        .map_err(|e| PdfError::Unreadable(e.to_string()))?;
    if document.objects.len() > MAX_OBJECTS {
        return Err(PdfError::Unreadable(format!(
            "{} objects (at most {MAX_OBJECTS})",
            document.objects.len()
        )));
    }
    Ok(document)
}

/// Reads `input` for signing: strictly, within limits, and not encrypted.
pub fn load(input: &[u8]) -> Result<Document> {
    let document = read(input, true)?;
    if document.is_encrypted() || document.trailer.has(b"Encrypt") {
        return Err(PdfError::Encrypted);
    }
    Ok(document)
}

pub fn unreadable(e: lopdf::Error) -> PdfError {
    PdfError::Unreadable(e.to_string())
}

/// Follows a reference, once.
pub fn resolve<'a>(document: &'a Document, object: &'a Object) -> Result<&'a Object> {
    match object {
        Object::Reference(id) => document.get_object(*id).map_err(unreadable),
        other => Ok(other),
    }
}

/// A signature field already in the document.
struct Existing {
    name: String,
    signed: bool,
    /// Its object, when the form refers to it (as every signer writes it).
    id: Option<ObjectId>,
}

/// The form's signature fields.
fn signature_fields(document: &Document, fields: &[Object]) -> Vec<Existing> {
    fields
        .iter()
        .filter_map(|f| {
            let id = f.as_reference().ok();
            let field = resolve(document, f).ok()?.as_dict().ok()?;
            (field.get(b"FT").ok()?.as_name().ok()? == b"Sig").then_some((id, field))
        })
        .map(|(id, field)| Existing {
            name: field
                .get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default(),
            signed: field.has(b"V"),
            id,
        })
        .collect()
}

/// The DocMDP permission of a certified document: 1, 2 or 3.
pub fn docmdp_permission(document: &Document, catalog: &Dictionary) -> Option<i64> {
    let perms = resolve(document, catalog.get(b"Perms").ok()?)
        .ok()?
        .as_dict()
        .ok()?;
    let signature = resolve(document, perms.get(b"DocMDP").ok()?)
        .ok()?
        .as_dict()
        .ok()?;
    let references = resolve(document, signature.get(b"Reference").ok()?)
        .ok()?
        .as_array()
        .ok()?;
    references.iter().find_map(|reference| {
        let reference = resolve(document, reference).ok()?.as_dict().ok()?;
        let params = resolve(document, reference.get(b"TransformParams").ok()?)
            .ok()?
            .as_dict()
            .ok()?;
        // ISO 32000-1 Table 254: /P defaults to 2.
        Some(
            params
                .get(b"P")
                .ok()
                .and_then(|p| p.as_i64().ok())
                .unwrap_or(2),
        )
    })
}

fn name(text: &str) -> Object {
    Object::Name(text.as_bytes().to_vec())
}

/// A text string: PDFDocEncoding when plain ASCII, else UTF-16BE with its byte order mark.
fn text(value: &str) -> Object {
    if value.is_ascii() {
        Object::String(value.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in value.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// `D:YYYYMMDDHHmmSS+00'00'`.
pub fn pdf_date(at: DateTime<Utc>) -> Object {
    Object::String(
        at.format("D:%Y%m%d%H%M%S+00'00'").to_string().into_bytes(),
        StringFormat::Literal,
    )
}

/// The object a dictionary entry names, for changing in the update: a referenced object is
/// cloned under its own id; a direct one (or none) becomes a new object, and the entry must
/// then be pointed at it.
fn take_indirect(
    update: &mut IncrementalDocument,
    entry: Option<&Object>,
    empty: Object,
) -> Result<(ObjectId, Object)> {
    match entry {
        Some(Object::Reference(id)) => {
            let object = update
                .get_prev_documents()
                .get_object(*id)
                .map_err(unreadable)?
                .clone();
            Ok((*id, object))
        }
        Some(direct) => Ok((update.new_document.new_object_id(), direct.clone())),
        None => Ok((update.new_document.new_object_id(), empty)),
    }
}

/// The signature dictionary of `field`, with placeholders for its byte range and contents.
fn signature_dictionary(field: &Field<'_>) -> Dictionary {
    let mut signature = Dictionary::new();
    match field.kind {
        Kind::Signature { certify } => {
            signature.set("Type", name("Sig"));
            signature.set("Filter", name("Adobe.PPKLite"));
            signature.set("SubFilter", name("ETSI.CAdES.detached"));
            signature.set("M", pdf_date(field.signed_at));
            if let Some(reason) = field.reason {
                signature.set("Reason", text(reason));
            }
            if let Some(location) = field.location {
                signature.set("Location", text(location));
            }
            if certify {
                let mut params = Dictionary::new();
                params.set("Type", name("TransformParams"));
                params.set("P", 2);
                params.set("V", name("1.2"));
                let mut reference = Dictionary::new();
                reference.set("Type", name("SigRef"));
                reference.set("TransformMethod", name("DocMDP"));
                reference.set("TransformParams", params);
                signature.set("Reference", vec![Object::Dictionary(reference)]);
            }
        }
        Kind::DocTimeStamp => {
            signature.set("Type", name("DocTimeStamp"));
            signature.set("Filter", name("Adobe.PPKLite"));
            signature.set("SubFilter", name("ETSI.RFC3161"));
        }
    }
    let placeholder = Object::Integer(RANGE_PLACEHOLDER);
    signature.set(
        "ByteRange",
        vec![
            Object::Integer(0),
            placeholder.clone(),
            placeholder.clone(),
            placeholder,
        ],
    );
    signature.set(
        "Contents",
        Object::String(vec![0; field.room], StringFormat::Hexadecimal),
    );
    signature
}

/// A signature field merged with its widget; `value` is its signature dictionary, if signed.
fn widget(
    update: &mut IncrementalDocument,
    field_name: &str,
    page: ObjectId,
    rect: Option<Rect>,
    value: Option<ObjectId>,
) -> Dictionary {
    let mut widget = Dictionary::new();
    widget.set("Type", name("Annot"));
    widget.set("Subtype", name("Widget"));
    widget.set("FT", name("Sig"));
    widget.set("T", text(field_name));
    if let Some(value) = value {
        widget.set("V", Object::Reference(value));
    }
    // Print and Locked: PDF/A wants every annotation printed.
    widget.set("F", 132);
    widget.set("P", Object::Reference(page));
    let Some(rect) = rect else {
        widget.set("Rect", vec![Object::Integer(0); 4]);
        return widget;
    };
    widget.set(
        "Rect",
        vec![
            Object::Real(rect.x),
            Object::Real(rect.y),
            Object::Real(rect.x + rect.width),
            Object::Real(rect.y + rect.height),
        ],
    );
    // The letter itself prints the signature block (name, QR code, the TTE note), so the
    // widget's appearance is an empty form the size of the block: nothing drawn over the
    // letter, and no font to embed for PDF/A.
    let mut form = Dictionary::new();
    form.set("Type", name("XObject"));
    form.set("Subtype", name("Form"));
    form.set(
        "BBox",
        vec![
            Object::Real(0.0),
            Object::Real(0.0),
            Object::Real(rect.width),
            Object::Real(rect.height),
        ],
    );
    form.set("Resources", Dictionary::new());
    let appearance = update
        .new_document
        .add_object(lopdf::Stream::new(form, Vec::new()));
    let mut ap = Dictionary::new();
    ap.set("N", Object::Reference(appearance));
    widget.set("AP", ap);
    widget
}

/// The id of page `number` (1-based).
fn page_id(document: &Document, number: u32) -> Result<ObjectId> {
    let pages = document.get_pages();
    pages.get(&number).copied().ok_or(PdfError::NoSuchPage {
        page: number,
        pages: pages.len(),
    })
}

/// Writes the update that adds `field` to `input` (or fills the empty field of its name) and
/// returns it with the contents empty.
pub fn prepare(input: &[u8], field: &Field<'_>) -> Result<Prepared> {
    let previous = load(input)?;
    let mut update = IncrementalDocument::create_from(input.to_vec(), previous);
    let prev = update.get_prev_documents();

    let root_id = prev
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(unreadable)?;
    let mut catalog = prev.get_dictionary(root_id).map_err(unreadable)?.clone();
    let acroform_entry = catalog.get(b"AcroForm").ok().cloned();
    let (acroform_id, acroform) = take_indirect(
        &mut update,
        acroform_entry.as_ref(),
        Object::Dictionary(Dictionary::new()),
    )?;
    let mut acroform = acroform.as_dict().map_err(unreadable)?.clone();
    let prev = update.get_prev_documents();
    let fields_entry = acroform.get(b"Fields").ok().cloned();
    let mut fields: Vec<Object> = match &fields_entry {
        Some(entry) => resolve(prev, entry)?
            .as_array()
            .map_err(unreadable)?
            .clone(),
        None => Vec::new(),
    };
    let existing = signature_fields(prev, &fields);
    if docmdp_permission(prev, &catalog) == Some(1) && field.kind != Kind::DocTimeStamp {
        return Err(PdfError::NoChangesAllowed);
    }
    let certify = field.kind == (Kind::Signature { certify: true });
    if certify && existing.iter().any(|f| f.signed) {
        return Err(PdfError::CertifyNotFirst);
    }
    let taken = |candidate: &str| {
        existing.iter().any(|f| f.name == candidate)
            || field.reserve.iter().any(|r| r.name == candidate)
    };
    let field_name = match &field.name {
        Some(name) => name.clone(),
        None => {
            let prefix = match field.kind {
                Kind::DocTimeStamp => "Timestamp",
                Kind::Signature { .. } => "Signature",
            };
            (1..)
                .map(|n| format!("{prefix}{n}"))
                .find(|candidate| !taken(candidate))
                .unwrap_or_default()
        }
    };
    // A partial field name may not hold a period (ISO 32000-1 §12.7.3.2): it separates the
    // parts of a fully qualified name.
    for name in std::iter::once(&field_name).chain(field.reserve.iter().map(|r| &r.name)) {
        if name.is_empty() || name.contains('.') {
            return Err(PdfError::FieldName(name.clone()));
        }
    }
    for reserved in &field.reserve {
        if existing.iter().any(|f| f.name == reserved.name) || reserved.name == field_name {
            return Err(PdfError::FieldExists(reserved.name.clone()));
        }
    }
    // An empty field of that name is filled; otherwise a new field is made.
    let to_fill = match existing.iter().find(|f| f.name == field_name) {
        Some(found) if found.signed => return Err(PdfError::FieldSigned(field_name)),
        Some(found) => Some(found.id.ok_or_else(|| {
            PdfError::Unreadable(format!("kolom '{field_name}' tidak dapat dirujuk"))
        })?),
        None => None,
    };

    let signature_id = update.new_document.new_object_id();
    if certify {
        let mut perms = Dictionary::new();
        perms.set("DocMDP", Object::Reference(signature_id));
        catalog.set("Perms", perms);
    }
    // New widgets, by the page they sit on.
    let mut new_widgets: Vec<(ObjectId, ObjectId)> = Vec::new();
    match to_fill {
        Some(id) => {
            let mut filled = update
                .get_prev_documents()
                .get_dictionary(id)
                .map_err(unreadable)?
                .clone();
            filled.set("V", Object::Reference(signature_id));
            update
                .new_document
                .objects
                .insert(id, Object::Dictionary(filled));
        }
        None => {
            let page = page_id(update.get_prev_documents(), field.page)?;
            let id = update.new_document.new_object_id();
            let dict = widget(
                &mut update,
                &field_name,
                page,
                field.rect,
                Some(signature_id),
            );
            update
                .new_document
                .objects
                .insert(id, Object::Dictionary(dict));
            new_widgets.push((page, id));
        }
    }
    for reserved in &field.reserve {
        let page = page_id(update.get_prev_documents(), reserved.page)?;
        let id = update.new_document.new_object_id();
        let dict = widget(&mut update, &reserved.name, page, Some(reserved.rect), None);
        update
            .new_document
            .objects
            .insert(id, Object::Dictionary(dict));
        new_widgets.push((page, id));
    }

    // Each page's annotations and the form's fields, extended.
    let mut pages: Vec<ObjectId> = new_widgets.iter().map(|(page, _)| *page).collect();
    pages.sort();
    pages.dedup();
    for page_id in pages {
        let mut page = update
            .get_prev_documents()
            .get_dictionary(page_id)
            .map_err(unreadable)?
            .clone();
        let annots_entry = page.get(b"Annots").ok().cloned();
        let (annots_id, annots) = take_indirect(
            &mut update,
            annots_entry.as_ref(),
            Object::Array(Vec::new()),
        )?;
        let mut annots = annots.as_array().map_err(unreadable)?.clone();
        annots.extend(
            new_widgets
                .iter()
                .filter(|(p, _)| *p == page_id)
                .map(|(_, w)| Object::Reference(*w)),
        );
        update
            .new_document
            .objects
            .insert(annots_id, Object::Array(annots));
        if !matches!(annots_entry, Some(Object::Reference(_))) {
            page.set("Annots", Object::Reference(annots_id));
            update
                .new_document
                .objects
                .insert(page_id, Object::Dictionary(page));
        }
    }
    fields.extend(new_widgets.iter().map(|(_, w)| Object::Reference(*w)));
    match fields_entry {
        Some(Object::Reference(id)) => {
            update
                .new_document
                .objects
                .insert(id, Object::Array(fields));
        }
        _ => acroform.set("Fields", fields),
    }
    // SignaturesExist and AppendOnly.
    acroform.set("SigFlags", 3);
    update
        .new_document
        .objects
        .insert(acroform_id, Object::Dictionary(acroform));
    catalog.set("AcroForm", Object::Reference(acroform_id));
    if matches!(field.kind, Kind::Signature { .. }) {
        mark_pades(update.get_prev_documents(), &mut catalog)?;
    }
    update
        .new_document
        .objects
        .insert(root_id, Object::Dictionary(catalog));
    update.new_document.objects.insert(
        signature_id,
        Object::Dictionary(signature_dictionary(field)),
    );

    let mut bytes = write(update, 2 * field.room)?;
    let contents = fill_byte_range(&mut bytes, input.len(), signature_id)?;
    Ok(Prepared {
        bytes,
        contents,
        field_name,
    })
}

/// Writes `update` after the previous bytes, with a trailer of its own: the previous one may
/// be a cross-reference stream's dictionary, whose filter and layout keys are not this
/// section's. `extra` is a hint of how much the update adds.
fn write(mut update: IncrementalDocument, extra: usize) -> Result<Vec<u8>> {
    let prev = update.get_prev_documents();
    let mut trailer = Dictionary::new();
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Ok(value) = prev.trailer.get(key) {
            trailer.set(key.to_vec(), value.clone());
        }
    }
    trailer.set("Prev", Object::Integer(prev.xref_start as i64));
    let size = update.get_prev_documents_bytes().len();
    update.new_document.trailer = trailer;
    let mut bytes = Vec::with_capacity(size + extra + 4096);
    update
        .save_to(&mut bytes)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(bytes)
}

/// An update that changes only the catalog and adds objects: `change` gets the update (to add
/// objects to) and the catalog's copy. Returns the updated file.
pub fn update_catalog(
    input: &[u8],
    change: impl FnOnce(&mut IncrementalDocument, &mut Dictionary) -> Result<()>,
) -> Result<Vec<u8>> {
    let previous = load(input)?;
    let mut update = IncrementalDocument::create_from(input.to_vec(), previous);
    let root_id = update
        .get_prev_documents()
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(unreadable)?;
    let mut catalog = update
        .get_prev_documents()
        .get_dictionary(root_id)
        .map_err(unreadable)?
        .clone();
    change(&mut update, &mut catalog)?;
    update
        .new_document
        .objects
        .insert(root_id, Object::Dictionary(catalog));
    write(update, 0)
}

/// Declares the ETSI PAdES developer extension in the catalog, as PAdES signers do.
fn mark_pades(document: &Document, catalog: &mut Dictionary) -> Result<()> {
    let mut extensions = match catalog.get(b"Extensions") {
        Ok(entry) => resolve(document, entry)?
            .as_dict()
            .map_err(unreadable)?
            .clone(),
        Err(_) => Dictionary::new(),
    };
    if !extensions.has(b"ESIC") {
        let mut esic = Dictionary::new();
        esic.set("Type", name("DeveloperExtensions"));
        esic.set("BaseVersion", name("1.7"));
        esic.set("ExtensionLevel", 1);
        extensions.set("ESIC", esic);
        catalog.set("Extensions", extensions);
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Finds the signature object in the update, writes its real byte range over the
/// placeholder, and returns where the contents' hex digits are.
fn fill_byte_range(
    bytes: &mut [u8],
    update_start: usize,
    signature: ObjectId,
) -> Result<Range<usize>> {
    let missing = || PdfError::Write("the signature dictionary was not written as expected".into());
    let header = format!("{} {} obj", signature.0, signature.1);
    let object = find(bytes, header.as_bytes(), update_start).ok_or_else(missing)?;
    let end = find(bytes, b"endobj", object).ok_or_else(missing)?;
    let range_key = find(&bytes[..end], b"/ByteRange", object).ok_or_else(missing)?;
    let open = find(&bytes[..end], b"[", range_key).ok_or_else(missing)?;
    let close = find(&bytes[..end], b"]", open).ok_or_else(missing)?;
    let contents_key = find(&bytes[..end], b"/Contents", object).ok_or_else(missing)?;
    let lt = find(&bytes[..end], b"<", contents_key).ok_or_else(missing)?;
    let gt = find(&bytes[..end], b">", lt).ok_or_else(missing)?;
    let after = gt + 1;
    let ranges = format!("0 {lt} {after} {}", bytes.len() - after);
    let slot = &mut bytes[open + 1..close];
    if ranges.len() > slot.len() {
        return Err(missing());
    }
    slot.fill(b' ');
    slot[..ranges.len()].copy_from_slice(ranges.as_bytes());
    Ok(lt + 1..gt)
}
