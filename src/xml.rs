//! A small element tree read with quick-xml, in which every element and text keeps its line and
//! column, so that a problem in an SOP definition or a letter template is reported where it is.
//!
//! Only what naskah's own formats use is kept: elements, attributes and text (entities
//! resolved, CDATA as text). Comments, processing instructions and the declaration are skipped;
//! a DOCTYPE is refused, since naskah's formats have none and it is the door to entity tricks.

use std::fmt;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A one-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Maps byte offsets of one text to positions.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        let column = text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        Position { line, column }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String, Position),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Node>,
    pub position: Position,
}

/// A problem with a document, at a place in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{position}: {message}")]
pub struct Problem {
    pub position: Position,
    pub message: String,
}

impl Problem {
    pub fn new(position: Position, message: impl Into<String>) -> Problem {
        Problem {
            position,
            message: message.into(),
        }
    }
}

/// How deep elements may nest: naskah's formats need a handful of levels.
const MAX_DEPTH: usize = 64;

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, Problem> {
        self.attribute(name).ok_or_else(|| {
            Problem::new(
                self.position,
                format!("<{}> needs the attribute {name}", self.name),
            )
        })
    }

    /// Refuses attributes other than `allowed`, so that a misspelt one is not silently ignored.
    pub fn only_attributes(&self, allowed: &[&str]) -> Result<(), Problem> {
        match self
            .attributes
            .iter()
            .find(|a| !allowed.contains(&a.name.as_str()))
        {
            Some(unknown) => Err(Problem::new(
                self.position,
                format!("<{}> has no attribute {}", self.name, unknown.name),
            )),
            None => Ok(()),
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(..) => None,
        })
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.name == name)
    }

    pub fn child<'a>(&'a self, name: &'a str) -> Option<&'a Element> {
        self.children_named(name).next()
    }

    /// All text inside, with runs of white space folded to one space and the ends trimmed.
    pub fn text(&self) -> String {
        let mut raw = String::new();
        self.collect_text(&mut raw);
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn collect_text(&self, into: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(text, _) => into.push_str(text),
                Node::Element(element) => {
                    into.push(' ');
                    element.collect_text(into);
                    into.push(' ');
                }
            }
        }
    }
}

/// Reads `text` into its root element.
pub fn parse(text: &str) -> Result<Element, Problem> {
    let lines = Lines::new(text);
    let at = |offset: u64| lines.position(text, usize::try_from(offset).unwrap_or(usize::MAX));
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            Problem::new(
                at(reader.error_position()),
                format!("not well-formed XML: {e}"),
            )
        })?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Problem::new(at(before), "elements nest too deeply"));
                }
                let element = open(&start, at(before))?;
                if root.is_some() {
                    return Err(Problem::new(at(before), "content after the root element"));
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open(&start, at(before))?;
                attach(&mut stack, &mut root, element, at(before))?;
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches its start.
                if let Some(element) = stack.pop() {
                    attach(&mut stack, &mut root, element, at(before))?;
                }
            }
            Event::Text(content) => push_text(&mut stack, &content.xml10_content(), at(before))?,
            Event::CData(data) => push_text(&mut stack, &data.xml10_content(), at(before))?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_owned)
                            .ok_or_else(|| {
                                Problem::new(at(before), format!("unknown entity &{name};"))
                            })?
                    }
                    Err(e) => {
                        return Err(Problem::new(
                            at(before),
                            format!("bad character reference: {e}"),
                        ));
                    }
                };
                push_text(&mut stack, &resolved, at(before))?;
            }
            Event::DocType(_) => {
                return Err(Problem::new(at(before), "a DOCTYPE is not allowed"));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(Problem::new(
            open.position,
            format!("<{}> is never closed", open.name),
        ));
    }
    root.ok_or_else(|| Problem::new(Position { line: 1, column: 1 }, "the document is empty"))
}

fn open(start: &BytesStart<'_>, position: Position) -> Result<Element, Problem> {
    let name = start.name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| {
            Problem::new(position, format!("<{name}> has a malformed attribute: {e}"))
        })?;
        let key = attribute.key.as_ref().to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| Problem::new(position, format!("<{name}> attribute {key}: {e}")))?;
        attributes.push(Attribute {
            name: key,
            value: value.into_owned(),
        });
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        position,
    })
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
    position: Position,
) -> Result<(), Problem> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => return Err(Problem::new(position, "content after the root element")),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str, position: Position) -> Result<(), Problem> {
    match stack.last_mut() {
        Some(parent) => {
            // Adjacent pieces (text, then an entity, then text) join into one.
            if let Some(Node::Text(previous, _)) = parent.children.last_mut() {
                previous.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned(), position));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(Problem::new(position, "text outside the root element")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_line_and_column_of_the_tag() -> Result<(), Problem> {
        let root = parse("<a>\n  <b x=\"1\"/>\n  <c>t&amp;u &#65;</c>\n</a>")?;
        let b = root.child("b").map(|b| b.position);
        assert_eq!(b, Some(Position { line: 2, column: 3 }));
        let c = root.child("c");
        assert_eq!(c.map(|c| c.position), Some(Position { line: 3, column: 3 }));
        assert_eq!(c.map(Element::text).as_deref(), Some("t&u A"));
        Ok(())
    }

    #[test]
    fn errors_have_positions() {
        let cases = [
            ("<a>\n<b></a>", 2),
            ("<a/>\n<b/>", 2),
            ("<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a>&x;</a>", 1),
            ("<a>\n\n&nope;</a>", 3),
        ];
        for (text, line) in cases {
            match parse(text) {
                Err(problem) => assert_eq!(problem.position.line, line, "{text}: {problem}"),
                Ok(root) => panic!("{text} parsed: {root:?}"),
            }
        }
    }
}
