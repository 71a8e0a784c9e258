//! Letter templates: one XML file per letter kind in `letter-templates/` (format in its
//! README), read into blocks whose text carries `{placeholders}`. Every placeholder keeps the
//! line and column of the template element it stands in, so a field the data lacks is
//! reported as "field X (template line L)".

use serde_json::Value;

use super::LetterKind;
use super::indonesian;
use crate::xml::{self, Element, Node, Position, Problem};

/// How a placeholder's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Plain,
    /// A date as "22 September 2025".
    Long,
    /// A date as "Senin, 22 September 2025".
    Day,
    /// A date as "hari Senin tanggal dua puluh dua bulan September tahun dua ribu dua puluh lima".
    Words,
    /// A NIP in its groups: "19810721 200312 1 004".
    Nip,
    Upper,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    Field {
        name: String,
        format: Format,
        optional: bool,
    },
}

/// Text with placeholders, from one place in a template.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    parts: Vec<Part>,
    pub position: Position,
}

/// A field the data does not give, or gives in a form the template cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field {field} (template line {}, column {}): {problem}", .position.line, .position.column)]
pub struct FieldError {
    pub field: String,
    pub position: Position,
    pub problem: String,
}

impl Text {
    pub fn parse(text: &str, position: Position) -> Result<Text, Problem> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            literal.push_str(&rest[..open]);
            let (brace, after) = rest[open..].split_at(1);
            if after.starts_with(brace) {
                literal.push_str(brace);
                rest = &after[1..];
                continue;
            }
            if brace == "}" {
                return Err(Problem::new(position, "a lone } (write }} for a brace)"));
            }
            let close = after.find('}').ok_or_else(|| {
                Problem::new(position, "a { is never closed (write {{ for a brace)")
            })?;
            let spec = &after[..close];
            let (name, format) = spec.split_once(':').unwrap_or((spec, ""));
            let (name, optional) = match name.strip_suffix('?') {
                Some(name) => (name, true),
                None => (name, false),
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            {
                return Err(Problem::new(
                    position,
                    format!("'{{{spec}}}' is not a placeholder"),
                ));
            }
            let format = match format {
                "" => Format::Plain,
                "long" => Format::Long,
                "day" => Format::Day,
                "words" => Format::Words,
                "nip" => Format::Nip,
                "upper" => Format::Upper,
                other => {
                    return Err(Problem::new(
                        position,
                        format!("unknown format '{other}' in {{{spec}}}"),
                    ));
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Field {
                name: name.to_owned(),
                format,
                optional,
            });
            rest = &after[close + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Text { parts, position })
    }

    pub fn literal(text: &str, position: Position) -> Text {
        Text {
            parts: vec![Part::Literal(text.to_owned())],
            position,
        }
    }

    /// The text with every placeholder replaced from `data`.
    pub fn fill(&self, data: &Value) -> Result<String, FieldError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field {
                    name,
                    format,
                    optional,
                } => match lookup(data, name) {
                    Some(value) => {
                        out.push_str(&format_value(value, *format).map_err(|problem| {
                            FieldError {
                                field: name.clone(),
                                position: self.position,
                                problem,
                            }
                        })?)
                    }
                    None if *optional => {}
                    None => {
                        return Err(FieldError {
                            field: name.clone(),
                            position: self.position,
                            problem: "missing from the letter's data".into(),
                        });
                    }
                },
            }
        }
        Ok(out)
    }
}

/// `name` or a dotted path (`signers.0.name`) in `data`; null counts as missing.
pub fn lookup<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    let mut value = data;
    for key in name.split('.') {
        value = match value {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!value.is_null()).then_some(value)
}

fn format_value(value: &Value, format: Format) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "ya" } else { "tidak" }.to_owned(),
        _ => return Err("is a list or an object, not text".into()),
    };
    let date = || {
        chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| format!("'{text}' is not a date (YYYY-MM-DD)"))
    };
    Ok(match format {
        Format::Plain => text,
        Format::Long => indonesian::long_date(date()?),
        Format::Day => indonesian::day_and_date(date()?),
        Format::Words => indonesian::date_in_words(date()?),
        Format::Nip => text
            .parse::<crate::people::Nip>()
            .map(|nip| nip.to_string())
            .map_err(|e| e.to_string())?,
        Format::Upper => text.to_uppercase(),
    })
}

/// A piece of a paragraph: text in one weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub text: Text,
    pub bold: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Justify,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub header: String,
    /// Share of the table's width, in percent.
    pub width: f32,
    pub field: String,
    pub align: Align,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureStyle {
    /// Signed electronically: QR code and the statement, no space for ink.
    Electronic,
    /// Space for an ink signature.
    Manual,
}

/// One block of a letter, in reading order.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// The office's kop surat, or with `applicant` the applying agency's, from the data's
    /// `applicant_letterhead`.
    Letterhead {
        applicant: bool,
        position: Position,
    },
    PlaceDate(Position),
    Reference(Position),
    Addressee(Position),
    Title {
        text: Text,
        subtitle: bool,
    },
    Number(Position),
    Paragraph {
        runs: Vec<Run>,
        align: Align,
        indent: bool,
    },
    /// A numbered list: its `<item>`s, or the texts of the data's list `source`.
    List {
        items: Vec<Vec<Run>>,
        source: Option<String>,
        position: Position,
    },
    Fields {
        rows: Vec<(String, Vec<Run>)>,
        boxed: bool,
    },
    Checkboxes {
        label: String,
        field: String,
        options: Vec<String>,
        position: Position,
    },
    Table {
        source: String,
        columns: Vec<Column>,
        position: Position,
    },
    Signature {
        party: usize,
        style: SignatureStyle,
        position: Position,
    },
    Signatures {
        left: usize,
        right: usize,
        left_label: String,
        right_label: String,
        position: Position,
    },
    Parties(Position),
    Tembusan(Position),
    Spacer(f32),
    /// A horizontal bar chart of the data's list `source`: a row per item, named by its
    /// `label` field, a bar per series, a marker line per item where `marker` has a value.
    Chart(Chart),
}

/// A chart's description.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub source: String,
    pub title: String,
    pub label: String,
    /// What the values count: `jam kerja`, `permohonan`.
    pub unit: String,
    pub series: Vec<Series>,
    pub marker: Option<Series>,
    /// The scale's end when values may run far past the rest: longer bars stop there, their
    /// values still written in full.
    pub max: Option<f32>,
    pub position: Position,
}

/// One value of each item: the field that holds it and its name in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub field: String,
    pub name: String,
}

/// Documents with templates that are not letters.
pub const OTHER_DOCUMENTS: [&str; 1] = ["buku_agenda"];

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// What the template writes: a letter kind's identifier, or another document naskah prints
    /// (`buku_agenda`). Whoever loads a template checks it is the one asked for.
    pub kind: String,
    pub blocks: Vec<Block>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, Problem> {
        let root = xml::parse(text)?;
        if root.name != "template" {
            return Err(Problem::new(
                root.position,
                format!("the root element is <{}>, not <template>", root.name),
            ));
        }
        root.only_attributes(&["kind"])?;
        let kind = root.required("kind")?;
        if kind.parse::<LetterKind>().is_err() && !OTHER_DOCUMENTS.contains(&kind) {
            return Err(Problem::new(
                root.position,
                format!("unknown letter kind '{kind}'"),
            ));
        }
        let kind = kind.to_owned();
        let blocks = root.elements().map(block).collect::<Result<_, _>>()?;
        Ok(Template { kind, blocks })
    }
}

fn runs(element: &Element) -> Result<Vec<Run>, Problem> {
    let mut out = Vec::new();
    for node in &element.children {
        match node {
            Node::Text(text, _) => out.push(Run {
                text: Text::parse(text, element.position)?,
                bold: false,
            }),
            Node::Element(child) if child.name == "b" => out.push(Run {
                text: Text::parse(&child.text(), child.position)?,
                bold: true,
            }),
            Node::Element(child) => {
                return Err(Problem::new(
                    child.position,
                    format!("<{}> is not expected in <{}>", child.name, element.name),
                ));
            }
        }
    }
    Ok(out)
}

fn number(element: &Element, name: &str, default: f32) -> Result<f32, Problem> {
    element.attribute(name).map_or(Ok(default), |v| {
        v.parse::<f32>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| Problem::new(element.position, format!("{name}='{v}' is not a number")))
    })
}

fn align(element: &Element, default: Align) -> Result<Align, Problem> {
    match element.attribute("align") {
        None => Ok(default),
        Some("left") => Ok(Align::Left),
        Some("center") => Ok(Align::Center),
        Some("justify") => Ok(Align::Justify),
        Some(other) => Err(Problem::new(
            element.position,
            format!("align='{other}' is not left, center or justify"),
        )),
    }
}

fn party(element: &Element, name: &str, default: usize) -> Result<usize, Problem> {
    number(element, name, default as f32).map(|n| n as usize)
}

fn block(element: &Element) -> Result<Block, Problem> {
    let at = element.position;
    let allowed: &[&str] = match element.name.as_str() {
        "p" => &["align", "indent"],
        "title" | "subtitle" => &[],
        "checkboxes" => &["label", "field", "options"],
        "table" | "list" => &["source"],
        "letterhead" => &["source"],
        "signature" => &["party", "style"],
        "signatures" => &["left", "right", "left-label", "right-label"],
        "fields" => &["boxed"],
        "spacer" => &["height"],
        "chart" => &["source", "title", "label", "unit", "max"],
        _ => &[],
    };
    element.only_attributes(allowed)?;
    Ok(match element.name.as_str() {
        "letterhead" => Block::Letterhead {
            applicant: match element.attribute("source") {
                None | Some("office") => false,
                Some("applicant") => true,
                Some(other) => {
                    return Err(Problem::new(
                        at,
                        format!("source='{other}' is not office or applicant"),
                    ));
                }
            },
            position: at,
        },
        "place-date" => Block::PlaceDate(at),
        "reference" => Block::Reference(at),
        "addressee" => Block::Addressee(at),
        "number" => Block::Number(at),
        "parties" => Block::Parties(at),
        "tembusan" => Block::Tembusan(at),
        "title" | "subtitle" => Block::Title {
            text: Text::parse(&element.text(), at)?,
            subtitle: element.name == "subtitle",
        },
        "p" => Block::Paragraph {
            runs: runs(element)?,
            align: align(element, Align::Justify)?,
            indent: element.attribute("indent") != Some("none"),
        },
        "list" => Block::List {
            source: element.attribute("source").map(str::to_owned),
            position: at,
            items: element
                .elements()
                .map(|item| {
                    if item.name == "item" {
                        runs(item)
                    } else {
                        Err(Problem::new(
                            item.position,
                            format!("<{}> is not expected in <list>", item.name),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        },
        "fields" => Block::Fields {
            rows: element
                .elements()
                .map(|field| {
                    if field.name != "field" {
                        return Err(Problem::new(
                            field.position,
                            format!("<{}> is not expected in <fields>", field.name),
                        ));
                    }
                    field.only_attributes(&["label"])?;
                    Ok((field.required("label")?.to_owned(), runs(field)?))
                })
                .collect::<Result<_, _>>()?,
            boxed: element.attribute("boxed") == Some("true"),
        },
        "checkboxes" => Block::Checkboxes {
            label: element.required("label")?.to_owned(),
            field: element.required("field")?.to_owned(),
            options: element
                .required("options")?
                .split('|')
                .map(|o| o.trim().to_owned())
                .collect(),
            position: at,
        },
        "table" => Block::Table {
            source: element.required("source")?.to_owned(),
            columns: element
                .elements()
                .map(|column| {
                    if column.name != "column" {
                        return Err(Problem::new(
                            column.position,
                            format!("<{}> is not expected in <table>", column.name),
                        ));
                    }
                    column.only_attributes(&["header", "width", "field", "align"])?;
                    Ok(Column {
                        header: column.required("header")?.to_owned(),
                        width: number(column, "width", 10.0)?,
                        field: column.required("field")?.to_owned(),
                        align: align(column, Align::Left)?,
                    })
                })
                .collect::<Result<_, _>>()?,
            position: at,
        },
        "signature" => Block::Signature {
            party: party(element, "party", 0)?,
            style: match element.attribute("style") {
                None | Some("electronic") => SignatureStyle::Electronic,
                Some("manual") => SignatureStyle::Manual,
                Some(other) => {
                    return Err(Problem::new(
                        at,
                        format!("style='{other}' is not electronic or manual"),
                    ));
                }
            },
            position: at,
        },
        "signatures" => Block::Signatures {
            left: party(element, "left", 1)?,
            right: party(element, "right", 0)?,
            left_label: element
                .attribute("left-label")
                .unwrap_or("PIHAK KEDUA")
                .to_owned(),
            right_label: element
                .attribute("right-label")
                .unwrap_or("PIHAK PERTAMA")
                .to_owned(),
            position: at,
        },
        "spacer" => Block::Spacer(number(element, "height", 12.0)?),
        "chart" => {
            let mut series = Vec::new();
            let mut marker = None;
            for child in element.elements() {
                child.only_attributes(&["field", "name"])?;
                let one = Series {
                    field: child.required("field")?.to_owned(),
                    name: child.required("name")?.to_owned(),
                };
                match child.name.as_str() {
                    "series" if series.len() < 3 => series.push(one),
                    "series" => {
                        return Err(Problem::new(child.position, "at most 3 <series>"));
                    }
                    "marker" if marker.is_none() => marker = Some(one),
                    other => {
                        return Err(Problem::new(
                            child.position,
                            format!("<{other}> is not expected in <chart> (series, one marker)"),
                        ));
                    }
                }
            }
            if series.is_empty() {
                return Err(Problem::new(at, "<chart> needs a <series>"));
            }
            Block::Chart(Chart {
                source: element.required("source")?.to_owned(),
                title: element.required("title")?.to_owned(),
                label: element.attribute("label").unwrap_or("label").to_owned(),
                unit: element.required("unit")?.to_owned(),
                series,
                marker,
                max: match element.attribute("max") {
                    Some(_) => Some(number(element, "max", 0.0)?).filter(|m| *m > 0.0),
                    None => None,
                },
                position: at,
            })
        }
        other => return Err(Problem::new(at, format!("<{other}> is not a letter block"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(line: usize) -> Position {
        Position { line, column: 3 }
    }

    #[test]
    fn placeholders_fill_and_format() -> Result<(), Box<dyn std::error::Error>> {
        let text = Text::parse(
            "Pada {date:words} di {city} ({nip:nip}) {{x}} {hilang?}.",
            at(4),
        )?;
        let data = json!({ "date": "2025-09-22", "city": "Luwuk", "nip": "198107212003121004" });
        assert_eq!(
            text.fill(&data)?,
            "Pada hari Senin tanggal dua puluh dua bulan September tahun dua ribu dua puluh lima di Luwuk (19810721 200312 1 004) {x} ."
        );
        Ok(())
    }

    #[test]
    fn a_missing_field_names_itself_and_its_line() -> Result<(), Problem> {
        let text = Text::parse("Hal: {hal}", at(17))?;
        let error = text.fill(&json!({})).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("field hal (template line 17, column 3): missing from the letter's data")
        );
        Ok(())
    }

    #[test]
    fn user_text_is_never_template_text() -> Result<(), Box<dyn std::error::Error>> {
        let text = Text::parse("{hal}", at(1))?;
        let hal = "<b>{date}</b> &amp; {{x}}";
        assert_eq!(text.fill(&json!({ "hal": hal }))?, hal);
        Ok(())
    }

    #[test]
    fn malformed_placeholders_are_problems() {
        for bad in ["{", "}", "{a b}", "{x:weird}", "{}"] {
            assert!(Text::parse(bad, at(1)).is_err(), "{bad}");
        }
    }
}
