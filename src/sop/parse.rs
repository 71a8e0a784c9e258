//! From the XML element tree to an [`Sop`], collecting every problem with its position instead
//! of stopping at the first.

use crate::letters::{LetterKind, LetterState};
use crate::xml::{self, Element, Problem};

use super::time::TimeStandard;
use super::{
    Approval, Artefact, Attachment, Branch, DecisionKind, Header, Item, Outcome, Role, Route, Sop,
    Step, Target,
};

/// Reads `text`. Problems that leave no SOP to speak of (not XML, another root element) end the
/// reading; the others are collected and the SOP is built from what could be read.
pub fn parse(text: &str) -> Result<(Sop, Vec<Problem>), Vec<Problem>> {
    let root = xml::parse(text).map_err(|p| vec![p])?;
    if root.name != "sop" {
        return Err(vec![Problem::new(
            root.position,
            format!("the root element is <{}>, not <sop>", root.name),
        )]);
    }
    let mut problems = Vec::new();
    let mut note = |result: Result<(), Problem>| {
        if let Err(problem) = result {
            problems.push(problem);
        }
    };
    note(root.only_attributes(&["id"]));
    let id = root.required("id").map(str::to_owned).unwrap_or_else(|p| {
        note(Err(p));
        String::new()
    });
    note(only_children(&root, &["header", "roles", "steps"]));

    let header = match root.child("header") {
        Some(element) => header(element, &mut problems),
        None => {
            problems.push(Problem::new(root.position, "<sop> has no <header>"));
            Header::default()
        }
    };
    let mut roles = Vec::new();
    match root.child("roles") {
        Some(element) => {
            for role in element.elements() {
                if let Some(role) = collect(&mut problems, read_role(role)) {
                    roles.push(role);
                }
            }
        }
        None => problems.push(Problem::new(root.position, "<sop> has no <roles>")),
    }
    let mut steps = Vec::new();
    match root.child("steps") {
        Some(element) => {
            for step in element.elements() {
                if let Some(step) = read_step(step, &mut problems) {
                    steps.push(step);
                }
            }
        }
        None => problems.push(Problem::new(root.position, "<sop> has no <steps>")),
    }
    Ok((
        Sop {
            id,
            header,
            roles,
            steps,
        },
        problems,
    ))
}

fn collect<T>(problems: &mut Vec<Problem>, result: Result<T, Problem>) -> Option<T> {
    result.map_err(|p| problems.push(p)).ok()
}

fn only_children(element: &Element, allowed: &[&str]) -> Result<(), Problem> {
    match element
        .elements()
        .find(|c| !allowed.contains(&c.name.as_str()))
    {
        Some(unknown) => Err(Problem::new(
            unknown.position,
            format!("<{}> is not expected in <{}>", unknown.name, element.name),
        )),
        None => Ok(()),
    }
}

fn header(element: &Element, problems: &mut Vec<Problem>) -> Header {
    const TEXTS: &[&str] = &[
        "region",
        "office",
        "unit",
        "number",
        "title",
        "created",
        "revised",
        "effective",
    ];
    const LISTS: &[&str] = &[
        "legal-basis",
        "qualifications",
        "related",
        "equipment",
        "warnings",
        "records",
    ];
    let mut allowed = TEXTS.to_vec();
    allowed.extend_from_slice(LISTS);
    allowed.push("approved-by");
    collect(problems, only_children(element, &allowed));

    let text = |name: &str| {
        element
            .child(name)
            .map(Element::text)
            .filter(|t| !t.is_empty())
    };
    let list = |name: &str| {
        element
            .child(name)
            .map(|list| list.children_named("item").map(Element::text).collect())
            .unwrap_or_default()
    };
    let mut required = |name: &str| {
        text(name).unwrap_or_else(|| {
            problems.push(Problem::new(
                element.position,
                format!("<header> has no <{name}>"),
            ));
            String::new()
        })
    };
    let region = required("region");
    let office = required("office");
    let title = required("title");
    for name in ["created", "revised", "effective"] {
        if let Some(date) = element.child(name).filter(|e| !e.text().is_empty()) {
            let value = date.text();
            let valid = chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_ok()
                || chrono::NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").is_ok();
            if !valid {
                problems.push(Problem::new(
                    date.position,
                    format!("<{name}> '{value}' is not a date (YYYY-MM-DD, or YYYY-MM)"),
                ));
            }
        }
    }
    let approved_by = match element.child("approved-by") {
        Some(approval) => {
            collect(problems, approval.only_attributes(&["name", "nip"]));
            if let Some(nip) = approval.attribute("nip")
                && let Err(e) = nip.parse::<crate::people::Nip>()
            {
                problems.push(Problem::new(approval.position, e));
            }
            Approval {
                position: approval.text(),
                name: approval.attribute("name").map(str::to_owned),
                nip: approval.attribute("nip").map(str::to_owned),
            }
        }
        None => {
            problems.push(Problem::new(
                element.position,
                "<header> has no <approved-by>",
            ));
            Approval::default()
        }
    };
    Header {
        region,
        office,
        unit: text("unit"),
        number: text("number"),
        title,
        created: text("created"),
        revised: text("revised"),
        effective: text("effective"),
        approved_by,
        legal_basis: list("legal-basis"),
        qualifications: list("qualifications"),
        related: list("related"),
        equipment: list("equipment"),
        warnings: list("warnings"),
        records: list("records"),
    }
}

fn read_role(element: &Element) -> Result<Role, Problem> {
    if element.name != "role" {
        return Err(Problem::new(
            element.position,
            format!("<{}> is not expected in <roles>", element.name),
        ));
    }
    element.only_attributes(&["id", "applicant"])?;
    let id = element.required("id")?;
    if !is_identifier(id) {
        return Err(Problem::new(
            element.position,
            format!("role id '{id}' is not an identifier (lowercase letters, digits, _)"),
        ));
    }
    let applicant = match element.attribute("applicant") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(Problem::new(
                element.position,
                format!("applicant is '{other}', not true or false"),
            ));
        }
    };
    let name = element.text();
    if name.is_empty() {
        return Err(Problem::new(
            element.position,
            format!("role {id} has no name"),
        ));
    }
    Ok(Role {
        id: id.to_owned(),
        name,
        applicant,
    })
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An item of `<requires>` or `<output>`: exactly one of letter, attachment or artefact.
fn read_item(element: &Element) -> Result<Item, Problem> {
    element.only_attributes(&["letter", "state", "attachment", "artefact"])?;
    let at = |message: String| Problem::new(element.position, message);
    match (
        element.attribute("letter"),
        element.attribute("attachment"),
        element.attribute("artefact"),
    ) {
        (Some(kind), None, None) => {
            let kind = kind.parse::<LetterKind>().map_err(at)?;
            let state = match element.attribute("state") {
                Some(state) => state.parse::<LetterState>().map_err(at)?,
                None => LetterState::Draft,
            };
            Ok(Item::Letter { kind, state })
        }
        (None, Some(id), None) if element.attribute("state").is_none() => Ok(Item::Attachment {
            id: id.parse::<Attachment>().map_err(at)?,
        }),
        (None, None, Some(id)) if element.attribute("state").is_none() => Ok(Item::Artefact {
            id: id.parse::<Artefact>().map_err(at)?,
        }),
        _ => Err(at(format!(
            "<{}> names exactly one of letter (with an optional state), attachment or artefact",
            element.name
        ))),
    }
}

fn read_target(element: &Element) -> Result<Target, Problem> {
    let to = element.required("to")?;
    let outcome = match element.attribute("outcome") {
        None | Some("finished") => Outcome::Finished,
        Some("rejected") => Outcome::Rejected,
        Some(other) => {
            return Err(Problem::new(
                element.position,
                format!("outcome '{other}' is not finished or rejected"),
            ));
        }
    };
    if to == "end" {
        Ok(Target::End(outcome))
    } else if element.attribute("outcome").is_some() {
        Err(Problem::new(
            element.position,
            "only a transition to end has an outcome",
        ))
    } else {
        Ok(Target::Step(to.to_owned()))
    }
}

fn read_step(element: &Element, problems: &mut Vec<Problem>) -> Option<Step> {
    if element.name != "step" {
        problems.push(Problem::new(
            element.position,
            format!("<{}> is not expected in <steps>", element.name),
        ));
        return None;
    }
    collect(problems, element.only_attributes(&["no", "actor", "time"]));
    collect(
        problems,
        only_children(
            element,
            &[
                "description",
                "requires",
                "uses",
                "output",
                "next",
                "decision",
            ],
        ),
    );
    let no = collect(problems, element.required("no"))?.to_owned();
    let actors: Vec<String> = collect(problems, element.required("actor"))
        .map(|a| a.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let time = collect(problems, element.required("time")).and_then(|text| {
        collect(
            problems,
            text.parse::<TimeStandard>()
                .map_err(|e| Problem::new(element.position, e)),
        )
    });
    let description = element
        .child("description")
        .map(Element::text)
        .unwrap_or_default();
    if description.is_empty() {
        problems.push(Problem::new(
            element.position,
            format!("step {no} has no <description>"),
        ));
    }
    let items = |name: &str, problems: &mut Vec<Problem>| -> Vec<Item> {
        element
            .children_named(name)
            .filter_map(|e| collect(problems, read_item(e)))
            .collect()
    };
    let requires = items("requires", problems);
    let outputs = items("output", problems);
    let uses = element.children_named("uses").map(Element::text).collect();

    let route = match (element.child("next"), element.child("decision")) {
        (Some(next), None) if element.children_named("next").count() == 1 => {
            collect(problems, next.only_attributes(&["to", "outcome"]));
            collect(problems, read_target(next)).map(|to| Route::Next { to })
        }
        (None, Some(decision)) if element.children_named("decision").count() == 1 => {
            read_decision(decision, problems)
        }
        _ => {
            problems.push(Problem::new(
                element.position,
                format!("step {no} needs exactly one <next> or one <decision>"),
            ));
            None
        }
    };
    Some(Step {
        no,
        actors,
        description,
        requires,
        uses,
        // An unreadable time is reported above; the step stays, so that its transitions are
        // still checked and one problem is not reported as many.
        time: time.unwrap_or(TimeStandard::Tentative),
        outputs,
        route: route?,
        position: element.position,
    })
}

fn read_decision(element: &Element, problems: &mut Vec<Problem>) -> Option<Route> {
    collect(problems, element.only_attributes(&["kind", "question"]));
    collect(problems, only_children(element, &["branch"]));
    let kind = collect(problems, element.required("kind")).and_then(|kind| {
        collect(
            problems,
            kind.parse::<DecisionKind>()
                .map_err(|e| Problem::new(element.position, e)),
        )
    })?;
    let question = element.attribute("question").unwrap_or_default().to_owned();
    let mut branches = Vec::new();
    for branch in element.children_named("branch") {
        collect(
            problems,
            branch.only_attributes(&["value", "to", "outcome"]),
        );
        collect(problems, only_children(branch, &["output"]));
        let (Some(value), Some(to)) = (
            collect(problems, branch.required("value")),
            collect(problems, read_target(branch)),
        ) else {
            continue;
        };
        let outputs = branch
            .children_named("output")
            .filter_map(|e| collect(problems, read_item(e)))
            .collect();
        let label = branch.text();
        branches.push(Branch {
            value: value.to_owned(),
            label: if label.is_empty() {
                value.to_owned()
            } else {
                label
            },
            to,
            outputs,
            position: branch.position,
        });
    }
    Some(Route::Decision {
        kind,
        question,
        branches,
        position: element.position,
    })
}
