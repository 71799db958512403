//! The `207 Multi-Status` answer to a PROPFIND (RFC 4918 §9.1, §13, §14.16, §15): one
//! `response` per resource, its found properties in a `200` propstat and the asked-for ones
//! it lacks in a `404` propstat.
//!
//! Live properties (§15), and which resources have them:
//! - `resourcetype` (a `collection` for a directory), `displayname` (the last path segment;
//!   none for the root) and `getlastmodified` (RFC 1123 date, when the host reports a time)
//!   on every resource;
//! - `getcontentlength`, `getcontenttype` (as a GET would send it) and `getetag` (the same
//!   strong tag a GET gives) on files only.
//!
//! `creationdate` and the quota pair (RFC 4331) are not known through WASI, so they are
//! never claimed: asked for, they come back in the `404` propstat. Text is escaped, and
//! `href`s are percent-encoded absolute paths, a collection's ending in `/`.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use percent_encoding::utf8_percent_encode;

use crate::fs::{Fs, Kind, Metadata};
use crate::html::push_escaped;
use crate::mime;
use crate::path::{SafePath, SEGMENT};
use crate::sink::Sink;
use crate::tree;
use crate::validators;
use crate::visibility::Visibility;

use super::propfind::{Property, Wanted, DAV};

/// Everything before the first `response`.
pub(crate) const HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<D:multistatus xmlns:D=\"DAV:\">\n";

/// Everything after the last `response`.
pub(crate) const TAIL: &str = "</D:multistatus>\n";

/// The live properties, in the order an `allprop` answer lists them.
const LIVE: [&str; 6] = [
    "resourcetype",
    "displayname",
    "getlastmodified",
    "getcontentlength",
    "getcontenttype",
    "getetag",
];

/// One resource to describe.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resource<'a> {
    /// Its percent-encoded absolute path (a collection's ends with `/`).
    pub(crate) href: &'a str,
    /// Its last path segment, decoded; `None` for the root.
    pub(crate) name: Option<&'a str>,
    pub(crate) meta: Metadata,
}

/// Appends the `response` element for `resource`.
pub(crate) fn push_response(out: &mut String, resource: &Resource<'_>, wanted: &Wanted) {
    out.push_str("<D:response><D:href>");
    push_escaped(out, resource.href);
    out.push_str("</D:href>");
    match wanted {
        Wanted::All | Wanted::Names => {
            out.push_str("<D:propstat><D:prop>");
            for name in LIVE {
                push_live(out, resource, name, matches!(wanted, Wanted::All));
            }
            push_status(out, "200 OK");
        }
        Wanted::Some(asked) => {
            let (found, missing): (Vec<&Property>, Vec<&Property>) = asked
                .iter()
                .partition(|p| p.namespace == DAV && has_live(resource, &p.name));
            if !found.is_empty() {
                out.push_str("<D:propstat><D:prop>");
                for property in found {
                    push_live(out, resource, &property.name, true);
                }
                push_status(out, "200 OK");
            }
            if !missing.is_empty() {
                out.push_str("<D:propstat><D:prop>");
                for property in missing {
                    push_empty(out, property);
                }
                push_status(out, "404 Not Found");
            }
        }
    }
    out.push_str("</D:response>\n");
}

/// Appends a `response` that refuses to change each of `properties` (`403`).
pub(crate) fn push_refusal(out: &mut String, href: &str, properties: &[Property]) {
    out.push_str("<D:response><D:href>");
    push_escaped(out, href);
    out.push_str("</D:href>");
    if !properties.is_empty() {
        out.push_str("<D:propstat><D:prop>");
        for property in properties {
            push_empty(out, property);
        }
        push_status(out, "403 Forbidden");
    }
    out.push_str(
        "<D:responsedescription>This server keeps no dead properties.</D:responsedescription>\
         </D:response>\n",
    );
}

fn push_status(out: &mut String, status: &str) {
    let _ = write!(
        out,
        "</D:prop><D:status>HTTP/1.1 {status}</D:status></D:propstat>"
    );
}

/// Whether `resource` has the live property `name`.
fn has_live(resource: &Resource<'_>, name: &str) -> bool {
    let file = resource.meta.kind == Kind::File;
    match name {
        "resourcetype" => true,
        "displayname" => resource.name.is_some(),
        "getlastmodified" => resource.meta.modified.is_some(),
        "getcontentlength" | "getcontenttype" | "getetag" => file,
        _ => false,
    }
}

/// Appends the live property `name` of `resource`, with its value or (for `propname`) as
/// an empty element; nothing if the resource lacks it.
fn push_live(out: &mut String, resource: &Resource<'_>, name: &str, value: bool) {
    if !has_live(resource, name) {
        return;
    }
    if !value {
        let _ = write!(out, "<D:{name}/>");
        return;
    }
    let meta = resource.meta;
    let _ = write!(out, "<D:{name}>");
    match name {
        "resourcetype" if meta.kind == Kind::Dir => out.push_str("<D:collection/>"),
        "resourcetype" => {}
        "displayname" => push_escaped(out, resource.name.unwrap_or_default()),
        "getlastmodified" => {
            if let Some(date) = meta
                .modified
                .and_then(|t| crate::civil::http_date(t.seconds))
            {
                out.push_str(&date);
            }
        }
        "getcontentlength" => {
            let _ = write!(out, "{}", meta.size);
        }
        "getcontenttype" => {
            push_escaped(out, &mime::content_type(resource.name.unwrap_or_default()))
        }
        "getetag" => {
            // Hex digits and a dash in quotes: nothing to escape, and clients that compare it
            // with a GET's `ETag` byte for byte see the same text.
            let tag = validators::etag(meta.size, meta.modified, None).header_value();
            out.push_str(tag.to_str().unwrap_or_default());
        }
        _ => {}
    }
    let _ = write!(out, "</D:{name}>");
}

/// An asked-for property, empty, in its own namespace.
fn push_empty(out: &mut String, property: &Property) {
    if property.namespace == DAV {
        let _ = write!(out, "<D:{}/>", property.name);
    } else {
        let _ = write!(out, "<x:{} xmlns:x=\"", property.name);
        push_escaped(out, &property.namespace);
        out.push_str("\"/>");
    }
}

/// A collection whose `Depth: 1` answer the glue streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Collection {
    pub(crate) dir: SafePath,
    pub(crate) meta: Metadata,
    pub(crate) wanted: Wanted,
    pub(crate) visibility: Visibility,
    /// What `href`s start with: the base path and the collection's own path, encoded.
    pub(crate) href: String,
}

/// Writes the `Depth: 1` multistatus of `collection` to `sink`, entry by entry as the
/// directory is read; false if it could not be written whole.
pub(crate) fn stream<S: Sink>(fs: &dyn Fs, collection: &Collection, sink: &mut S) -> bool {
    let mut out = String::with_capacity(8 << 10);
    out.push_str(HEAD);
    let own = Resource {
        href: &collection.href,
        name: collection.dir.file_name(),
        meta: collection.meta,
    };
    push_response(&mut out, &own, &collection.wanted);
    let mut href = String::new();
    let mut ok = true;
    let read = fs.read_dir(&collection.dir, &mut |entry| {
        if !collection
            .visibility
            .shows_entry(&entry.name, entry.meta.kind)
        {
            return ControlFlow::Continue(());
        }
        href.clear();
        href.push_str(&collection.href);
        let _ = write!(href, "{}", utf8_percent_encode(&entry.name, SEGMENT));
        if entry.meta.kind == Kind::Dir {
            href.push('/');
        }
        let resource = Resource {
            href: &href,
            name: Some(&entry.name),
            meta: entry.meta,
        };
        push_response(&mut out, &resource, &collection.wanted);
        if out.len() >= 8 << 10 {
            ok = sink.write(out.as_bytes());
            out.clear();
        }
        tree::keep_going(ok)
    });
    out.push_str(TAIL);
    ok && read.is_ok() && sink.write(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Timestamp;

    fn file() -> Metadata {
        Metadata {
            kind: Kind::File,
            size: 1234,
            modified: Some(Timestamp {
                seconds: 1_700_000_000,
                nanoseconds: 0,
            }),
        }
    }

    fn render(resource: &Resource<'_>, wanted: &Wanted) -> String {
        let mut out = String::new();
        push_response(&mut out, resource, wanted);
        out
    }

    #[test]
    fn allprop_of_a_file_and_a_collection() {
        let f = Resource {
            href: "/a%20b/notes.txt",
            name: Some("notes.txt"),
            meta: file(),
        };
        let xml = render(&f, &Wanted::All);
        assert_eq!(
            xml,
            "<D:response><D:href>/a%20b/notes.txt</D:href><D:propstat><D:prop>\
             <D:resourcetype></D:resourcetype><D:displayname>notes.txt</D:displayname>\
             <D:getlastmodified>Tue, 14 Nov 2023 22:13:20 GMT</D:getlastmodified>\
             <D:getcontentlength>1234</D:getcontentlength>\
             <D:getcontenttype>text/plain; charset=utf-8</D:getcontenttype>\
             <D:getetag>\"4d2-17979cfe362a0000\"</D:getetag>\
             </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n"
        );
        let dir = Resource {
            href: "/",
            name: None,
            meta: Metadata {
                kind: Kind::Dir,
                size: 4096,
                modified: None,
            },
        };
        let xml = render(&dir, &Wanted::All);
        assert!(xml.contains("<D:resourcetype><D:collection/></D:resourcetype>"));
        assert!(!xml.contains("getcontentlength") && !xml.contains("displayname"));
        let names = render(&f, &Wanted::Names);
        assert!(names.contains("<D:getetag/>") && !names.contains("1234"));
    }

    #[test]
    fn missing_properties_in_a_404_propstat() {
        let f = Resource {
            href: "/x&y",
            name: Some("x&y"),
            meta: file(),
        };
        let asked = Wanted::Some(vec![
            Property::dav("getcontentlength"),
            Property::dav("quota-used-bytes"),
            Property {
                namespace: "urn:a&b".into(),
                name: "color".into(),
            },
        ]);
        let xml = render(&f, &asked);
        assert!(xml.contains("<D:href>/x&amp;y</D:href>"));
        assert!(xml.contains(
            "<D:prop><D:getcontentlength>1234</D:getcontentlength></D:prop>\
             <D:status>HTTP/1.1 200 OK</D:status>"
        ));
        assert!(xml.contains(
            "<D:prop><D:quota-used-bytes/><x:color xmlns:x=\"urn:a&amp;b\"/></D:prop>\
             <D:status>HTTP/1.1 404 Not Found</D:status>"
        ));
        // The answer parses as XML.
        let doc = format!("{HEAD}{xml}{TAIL}");
        let mut reader = quick_xml::NsReader::from_str(&doc);
        loop {
            match reader.read_resolved_event() {
                Ok((_, quick_xml::events::Event::Eof)) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}: {doc}"),
            }
        }
    }
}
