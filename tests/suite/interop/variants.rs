//! What an attacker, or a later producer, does to a signed file: the variants of the
//! interop matrix, and the hand-made producer that signs a reserved field in place.

use std::path::Path;

use naskah::verify::Verdict;

use super::signers::{Signer, close_byte_range, openssl_cms, place, signed_bytes};

/// What an attacker does to a signed file (or, for the shadow hide, to the file before it is
/// signed, and then after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Variant {
    Honest,
    /// A byte inside the signed range changed.
    ByteChanged,
    /// Content drawn on the page by a later incremental update.
    ContentChanged,
    PageAdded,
    AnnotationAdded,
    /// The signed revision holds a white box over a line; a later one takes it away.
    ShadowHide,
    /// A later revision redefines a font the signed page uses.
    ShadowReplace,
    /// A later revision takes the signature field out of the form and the page.
    SignatureRemoved,
    /// A later revision draws the signed widget anew (a new appearance stream, the
    /// rectangle kept): it could show another name. pyHanko's policy forbids it, and naskah's.
    AppearanceRefreshed,
    /// The same, but the new appearance is written over the page's content stream.
    AppearanceClobbers,
}

impl Variant {
    pub(super) const ALL: [Variant; 10] = [
        Variant::Honest,
        Variant::ByteChanged,
        Variant::ContentChanged,
        Variant::PageAdded,
        Variant::AnnotationAdded,
        Variant::ShadowHide,
        Variant::ShadowReplace,
        Variant::SignatureRemoved,
        Variant::AppearanceRefreshed,
        Variant::AppearanceClobbers,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Variant::Honest => "honest",
            Variant::ByteChanged => "byte-changed",
            Variant::ContentChanged => "content-changed",
            Variant::PageAdded => "page-added",
            Variant::AnnotationAdded => "annotation",
            Variant::ShadowHide => "shadow-hide",
            Variant::ShadowReplace => "shadow-replace",
            Variant::SignatureRemoved => "sig-removed",
            Variant::AppearanceRefreshed => "appearance",
            Variant::AppearanceClobbers => "appear-clobber",
        }
    }

    /// The file of this variant, from the honest `signed` one or by signing anew.
    pub(super) fn apply(self, signed: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
        match self {
            Variant::Honest => signed.to_vec(),
            Variant::ByteChanged => crate::common::flip_content_byte(signed),
            Variant::ContentChanged => crate::verify::draw_later(signed),
            Variant::PageAdded => crate::verify::add_page(signed),
            Variant::AnnotationAdded => crate::verify::annotate(signed),
            Variant::ShadowHide => crate::verify::shadow_hide(&crate::verify::letter(), sign),
            Variant::ShadowReplace => crate::verify::shadow_replace(signed),
            Variant::SignatureRemoved => remove_signature(signed),
            Variant::AppearanceRefreshed => refresh_appearance(signed, false),
            Variant::AppearanceClobbers => refresh_appearance(signed, true),
        }
    }

    /// naskah's verdict on the file: trust stays undecided without revocation data (all but
    /// B-LTA and the PDFBox file with its DSS) and for SHA-1 after 2009. A removed signature
    /// is a change naskah names, though the last revision's form no longer shows it.
    pub(super) fn verdict(self, signer: Signer) -> Verdict {
        match self {
            Variant::Honest if matches!(signer, Signer::PyHankoLta | Signer::PdfBoxDss) => {
                Verdict::Valid
            }
            Variant::Honest => Verdict::Indeterminate,
            Variant::ByteChanged => Verdict::Invalid,
            _ => Verdict::Modified,
        }
    }
}

/// A later revision that takes every signature field out of the form and every widget of
/// one off the pages: the file then looks unsigned to a reader of its last revision.
pub(super) fn remove_signature(pdf: &[u8]) -> Vec<u8> {
    use lopdf::Object;
    crate::verify::append(pdf, |update| {
        let prev = update.get_prev_documents();
        let is_signature = |object: &Object| {
            object
                .as_reference()
                .and_then(|id| prev.get_dictionary(id))
                .is_ok_and(|d| d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig"))
        };
        let catalog = prev
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .expect("root");
        let mut root = prev.get_dictionary(catalog).expect("catalog").clone();
        let mut form = match root.get(b"AcroForm").expect("a form") {
            Object::Reference(id) => prev.get_dictionary(*id).expect("form").clone(),
            Object::Dictionary(form) => form.clone(),
            other => panic!("{other:?}"),
        };
        let fields = match form.get(b"Fields").expect("fields") {
            Object::Reference(id) => prev.get_object(*id).expect("fields").clone(),
            direct => direct.clone(),
        };
        let kept: Vec<Object> = fields
            .as_array()
            .expect("an array")
            .iter()
            .filter(|f| !is_signature(f))
            .cloned()
            .collect();
        form.set("Fields", kept);
        form.remove(b"SigFlags");
        root.set("AcroForm", form);
        let pages: Vec<lopdf::ObjectId> = prev.get_pages().into_values().collect();
        let mut edited = Vec::new();
        for page in pages {
            let mut dict = prev.get_dictionary(page).expect("page").clone();
            let annots = match dict.get(b"Annots") {
                Ok(Object::Reference(id)) => prev.get_object(*id).expect("annots").clone(),
                Ok(direct) => direct.clone(),
                Err(_) => continue,
            };
            let annots = annots.as_array().expect("an array");
            let kept: Vec<Object> = annots
                .iter()
                .filter(|a| !is_signature(a))
                .cloned()
                .collect();
            if kept.len() != annots.len() {
                dict.set("Annots", kept);
                edited.push((page, dict));
            }
        }
        update
            .new_document
            .objects
            .insert(catalog, Object::Dictionary(root));
        for (page, dict) in edited {
            update
                .new_document
                .objects
                .insert(page, Object::Dictionary(dict));
        }
    })
}

/// A later revision that gives the first signature's widget a new appearance: a new stream
/// of its own, or (`clobber`) one written over the first page's content stream.
pub(super) fn refresh_appearance(pdf: &[u8], clobber: bool) -> Vec<u8> {
    use lopdf::Object;
    let value = crate::verify::signature_id(pdf);
    crate::verify::append(pdf, |update| {
        let prev = update.get_prev_documents();
        let (widget, mut dict) = prev
            .objects
            .iter()
            .find_map(|(id, o)| {
                let d = o.as_dict().ok()?;
                (d.get(b"V").and_then(Object::as_reference).ok() == Some(value))
                    .then(|| (*id, d.clone()))
            })
            .expect("the signature's widget");
        let page = *prev.get_pages().get(&1).expect("page 1");
        let content = match prev.get_dictionary(page).expect("page").get(b"Contents") {
            Ok(Object::Reference(id)) => *id,
            Ok(Object::Array(items)) => items[0].as_reference().expect("a stream"),
            other => panic!("{other:?}"),
        };
        let mut form = lopdf::Dictionary::new();
        form.set("Type", Object::Name(b"XObject".to_vec()));
        form.set("Subtype", Object::Name(b"Form".to_vec()));
        form.set("BBox", vec![0.into(), 0.into(), 220.into(), 110.into()]);
        let stream = lopdf::Stream::new(form, b"q 0 0 1 rg 0 0 220 110 re f Q".to_vec());
        let appearance = if clobber {
            update
                .new_document
                .objects
                .insert(content, Object::Stream(stream));
            content
        } else {
            update.new_document.add_object(stream)
        };
        let mut ap = lopdf::Dictionary::new();
        ap.set("N", Object::Reference(appearance));
        dict.set("AP", ap);
        update
            .new_document
            .objects
            .insert(widget, Object::Dictionary(dict));
    })
}

/// A letter naskah signed as a paraf (certified, P=2) with an empty field `Pihak` reserved for
/// a later signer.
pub(super) fn with_reserved_field() -> Vec<u8> {
    let mut paraf = crate::verify::options(true, None, Some("Paraf"));
    paraf.reserve = vec![naskah::signing::Reserved {
        name: "Pihak".into(),
        page: 1,
        rect: crate::verify::BLOCK,
    }];
    crate::verify::sign(
        &crate::verify::letter(),
        "banggai.kabid_egov",
        &paraf,
        naskah::signing::Level::BB,
        None,
    )
}

/// The reserved field `field` signed by a hand-made producer that draws the signed field by
/// rewriting its existing appearance stream under the same number (as some desktop signers
/// do); with `clobber`, the page's content stream rewritten alongside (a filling that changes
/// what the page shows).
pub(super) fn fill_in_place(dir: &Path, pdf: &[u8], field: &str, clobber: bool) -> Vec<u8> {
    use lopdf::Object;
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let (widget, dict) = document
        .objects
        .iter()
        .find_map(|(id, o)| {
            let d = o.as_dict().ok()?;
            (d.get(b"T").and_then(Object::as_str).ok() == Some(field.as_bytes()))
                .then(|| (*id, d.clone()))
        })
        .expect("the reserved field");
    let stream = dict
        .get(b"AP")
        .and_then(Object::as_dict)
        .and_then(|ap| ap.get(b"N"))
        .and_then(Object::as_reference)
        .expect("an appearance stream");
    let page = *document.get_pages().get(&1).expect("page 1");
    let content = match document
        .get_dictionary(page)
        .expect("page")
        .get(b"Contents")
    {
        Ok(Object::Reference(id)) => *id,
        Ok(Object::Array(items)) => items[0].as_reference().expect("a stream"),
        other => panic!("{other:?}"),
    };
    let mut update = lopdf::IncrementalDocument::create_from(pdf.to_vec(), document);
    const DIGITS: usize = 16 * 1024;
    let mut signature = lopdf::Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"adbe.pkcs7.detached".to_vec()));
    signature.set(
        "ByteRange",
        vec![0, 1_111_111_111, 1_111_111_111, 1_111_111_111]
            .into_iter()
            .map(Object::Integer)
            .collect::<Vec<_>>(),
    );
    signature.set(
        "Contents",
        Object::String(vec![0; DIGITS / 2], lopdf::StringFormat::Hexadecimal),
    );
    let value = update.new_document.add_object(signature);
    let mut filled = dict;
    filled.set("V", value);
    update
        .new_document
        .objects
        .insert(widget, Object::Dictionary(filled));
    let old = update
        .get_prev_documents()
        .get_object(stream)
        .and_then(Object::as_stream)
        .expect("a stream")
        .clone();
    let drawn = lopdf::Stream::new(old.dict.clone(), b"q 0 0 1 rg 0 0 220 110 re f Q".to_vec());
    update
        .new_document
        .objects
        .insert(stream, Object::Stream(drawn.clone()));
    if clobber {
        update
            .new_document
            .objects
            .insert(content, Object::Stream(drawn));
    }
    let mut bytes = Vec::new();
    update.save_to(&mut bytes).expect("saves");
    let digits = close_byte_range(&mut bytes, DIGITS);
    let cms = openssl_cms(dir, &signed_bytes(&bytes, &digits), false);
    place(&mut bytes, &digits, &cms);
    bytes
}
