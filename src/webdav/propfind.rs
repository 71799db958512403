//! The body of a `PROPFIND` (RFC 4918 §9.1, §14.20): which properties the client asks for.
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
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut root = false;
    let mut in_prop = false;
    let mut wanted: Option<Wanted> = None;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|_| Malformed)?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or(Malformed)?;
                if depth == 1 {
                    in_prop = false;
                }
                continue;
            }
            Event::DocType(_) => return Err(Malformed),
            Event::Eof => break,
            // Text, comments and processing instructions carry nothing here.
            _ => continue,
        };
        let Some(element) = start else { continue };
        depth += 1;
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        let namespace = match resolved {
            ResolveResult::Bound(Namespace(ns)) => {
                String::from_utf8(ns.to_vec()).map_err(|_| Malformed)?
            }
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return Err(Malformed),
        };
        let name =
            String::from_utf8(element.local_name().as_ref().to_vec()).map_err(|_| Malformed)?;
        if !is_name(&name) {
            return Err(Malformed);
        }
        let dav = namespace == DAV;
        match depth {
            1 if dav && name == "propfind" => root = true,
            1 => return Err(Malformed),
            2 if dav && name == "allprop" => wanted = Some(Wanted::All),
            2 if dav && name == "propname" => wanted = Some(Wanted::Names),
            2 if dav && name == "prop" => {
                in_prop = !empty;
                if !matches!(wanted, Some(Wanted::Some(_))) {
                    wanted = Some(Wanted::Some(Vec::new()));
                }
            }
            3 if in_prop => {
                if let Some(Wanted::Some(list)) = &mut wanted {
                    let property = Property { namespace, name };
                    if !list.contains(&property) {
                        list.push(property);
                    }
                }
            }
            // `include`, and anything RFC 4918 §17 lets a client add, is ignored.
            _ => {}
        }
        if empty {
            depth -= 1;
            if depth == 1 {
                in_prop = false;
            }
        }
    }
    match (root, wanted) {
        (true, Some(wanted)) if depth == 0 => Ok(wanted),
        _ => Err(Malformed),
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
