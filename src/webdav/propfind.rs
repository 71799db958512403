//! The body of a `PROPFIND` (RFC 4918 §9.1, §14.20): which properties the client asks for;
//! and of a `PROPPATCH` (§9.2, §14.19): which properties it would set or remove.
//!
//! Rules:
//! - An empty body is `allprop` (§9.1).
//! - The root must be `DAV:propfind`, holding `allprop` (with an optional `include`, whose
//!   properties allprop already answers here), `propname`, or `prop` with the properties by
//!   qualified name, in any namespace.
//! - A prefix that no `xmlns` declares is malformed (litmus `propfind_invalid2`), and so is
//!   a body that is not XML: both are a `400`.
//! - XML-RPC's limits hold here too: a DOCTYPE anywhere is refused, so no entity can be
//!   declared or fetched; elements nest at most [`MAX_DEPTH`] deep; the router reads at most
//!   [`MAX_BODY`] bytes.

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

/// The largest PROPFIND body read.
pub(crate) const MAX_BODY: u64 = 64 << 10;

/// How deep a PROPFIND body's elements may nest.
pub(crate) const MAX_DEPTH: usize = 16;

/// The DAV: namespace.
pub(crate) const DAV: &str = "DAV:";

/// A property by its qualified name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    /// The namespace URI; empty for none.
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl Property {
    #[cfg(test)]
    pub(crate) fn dav(name: &str) -> Property {
        Property {
            namespace: DAV.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// What a PROPFIND asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// Every live property, with values.
    All,
    /// The names of every live property.
    Names,
    /// These properties, with values; the ones a resource lacks in a `404` propstat.
    Some(Vec<Property>),
}

/// A body that is not a PROPFIND request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reads a PROPFIND body.
pub(crate) fn parse(body: &[u8]) -> Result<Wanted, Malformed> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Wanted::All);
    }
    let mut root = false;
    let mut wanted: Option<Wanted> = None;
    elements(body, &mut |path| {
        match path {
            [r] if is_dav(r, "propfind") => root = true,
            [_] => return Err(Malformed),
            [_, c] if is_dav(c, "allprop") => wanted = Some(Wanted::All),
            [_, c] if is_dav(c, "propname") => wanted = Some(Wanted::Names),
            [_, c] if is_dav(c, "prop") && !matches!(wanted, Some(Wanted::Some(_))) => {
                wanted = Some(Wanted::Some(Vec::new()));
            }
            [_, p, property] if is_dav(p, "prop") => {
                if let Some(Wanted::Some(list)) = &mut wanted {
                    if !list.contains(property) {
                        list.push(property.clone());
                    }
                }
            }
            // `include`, a property's own content, and anything RFC 4918 §17 lets a client
            // add, are ignored.
            _ => {}
        }
        Ok(())
    })?;
    match (root, wanted) {
        (true, Some(wanted)) => Ok(wanted),
        _ => Err(Malformed),
    }
}

/// Reads a PROPPATCH body (RFC 4918 §14.19): the properties its `set` and `remove`
/// instructions name, in order.
pub(crate) fn parse_update(body: &[u8]) -> Result<Vec<Property>, Malformed> {
    let mut root = false;
    let mut named = Vec::new();
    elements(body, &mut |path| {
        match path {
            [r] if is_dav(r, "propertyupdate") => root = true,
            [_] => return Err(Malformed),
            [_, op, p, property]
                if (is_dav(op, "set") || is_dav(op, "remove")) && is_dav(p, "prop") =>
            {
                named.push(property.clone());
            }
            _ => {}
        }
        Ok(())
    })?;
    if !root {
        return Err(Malformed);
    }
    Ok(named)
}

fn is_dav(property: &Property, name: &str) -> bool {
    property.namespace == DAV && property.name == name
}

/// Calls `each` for every element of `body` with the qualified names from the root down to
/// it, after the checks every WebDAV body gets: well-formed, no DOCTYPE, every prefix
/// declared, names that are names, at most [`MAX_DEPTH`] deep.
fn elements(
    body: &[u8],
    each: &mut dyn FnMut(&[Property]) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut path: Vec<Property> = Vec::new();
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|_| Malformed)?;
        let (element, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                path.pop().ok_or(Malformed)?;
                continue;
            }
            Event::DocType(_) => return Err(Malformed),
            Event::Eof => break,
            // Text, comments and processing instructions carry nothing here.
            _ => continue,
        };
        let namespace = match resolved {
            ResolveResult::Bound(Namespace(ns)) => {
                String::from_utf8(ns.to_vec()).map_err(|_| Malformed)?
            }
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return Err(Malformed),
        };
        let name =
            String::from_utf8(element.local_name().as_ref().to_vec()).map_err(|_| Malformed)?;
        if !is_name(&name) || path.len() >= MAX_DEPTH {
            return Err(Malformed);
        }
        path.push(Property { namespace, name });
        each(&path)?;
        if empty {
            path.pop();
        }
    }
    if path.is_empty() {
        Ok(())
    } else {
        Err(Malformed)
    }
}

/// Whether `name` is an XML local name (an NCName, XML 1.0 §2.3 with Namespaces §3), as far
/// as ASCII goes: quick-xml reads a name up to whitespace, `/` or `>`, so `a<"b` would
/// pass it, and the answer echoes property names back.
fn is_name(name: &str) -> bool {
    let ok = |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "-._".contains(c);
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| ok(c) && !c.is_ascii_digit() && !"-.".contains(c));
    first_ok && name.chars().all(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_asked() {
        assert_eq!(parse(b""), Ok(Wanted::All));
        assert_eq!(parse(b"  \r\n"), Ok(Wanted::All));
        let all = br#"<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>"#;
        assert_eq!(parse(all), Ok(Wanted::All));
        let with_include =
            br#"<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:x/></D:include></D:propfind>"#;
        assert_eq!(parse(with_include), Ok(Wanted::All));
        let names = br#"<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#;
        assert_eq!(parse(names), Ok(Wanted::Names));
        let some = br#"<?xml version="1.0" encoding="utf-8" ?>
            <D:propfind xmlns:D="DAV:" xmlns:Z="urn:z">
              <D:prop><D:getcontentlength/><D:resourcetype/><Z:color/>
                <nons xmlns=""/><D:getcontentlength/></D:prop>
            </D:propfind>"#;
        assert_eq!(
            parse(some),
            Ok(Wanted::Some(vec![
                Property::dav("getcontentlength"),
                Property::dav("resourcetype"),
                Property {
                    namespace: "urn:z".into(),
                    name: "color".into()
                },
                Property {
                    namespace: String::new(),
                    name: "nons".into()
                },
            ]))
        );
        // A property's own content is not a property.
        let nested = br#"<propfind xmlns="DAV:"><prop><a><b/></a></prop></propfind>"#;
        assert_eq!(parse(nested), Ok(Wanted::Some(vec![Property::dav("a")])));
    }

    #[test]
    fn what_a_proppatch_names() {
        let body = br#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
            <D:set><D:prop><Z:author>me</Z:author><Z:x><Z:nested/></Z:x></D:prop></D:set>
            <D:remove><D:prop><Z:old/></D:prop></D:remove></D:propertyupdate>"#;
        let named = parse_update(body).unwrap();
        let names: Vec<&str> = named.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["author", "x", "old"]);
        assert!(named.iter().all(|p| p.namespace == "urn:z"));
        assert_eq!(parse_update(b""), Err(Malformed));
        assert_eq!(parse_update(b"<propfind xmlns=\"DAV:\"/>"), Err(Malformed));
    }

    #[test]
    fn malformed_bodies() {
        let deep = format!(
            "<propfind xmlns=\"DAV:\"><prop>{}{}</prop></propfind>",
            "<x>".repeat(40),
            "</x>".repeat(40)
        );
        let cases: &[&[u8]] = &[
            b"not xml at all <",
            b"<propfind xmlns=\"DAV:\"><allprop/>",
            b"<propfind><allprop/></propfind>",
            b"<D:propfind xmlns:D=\"DAV:\"></D:propfind>",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><bogus:x/></D:prop></D:propfind>",
            b"<propfind xmlns=\"urn:other\"><allprop/></propfind>",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getconte<\"Dntlength/></D:prop></D:propfind>",
            b"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:1x/></D:prop></D:propfind>",
            b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><propfind xmlns=\"DAV:\"><prop>&e;</prop></propfind>",
            deep.as_bytes(),
        ];
        for body in cases {
            assert_eq!(
                parse(body),
                Err(Malformed),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
