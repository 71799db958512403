//! The query of a directory request (`?sort=size&order=desc&format=json`, `?download=tar`,
//! `?download=zip`, `?q=TERM`, `?after=CURSOR`) and the `Accept` negotiation between the HTML and JSON
//! answers (weights parsed by `header.rs`).
//!
//! The query uses `application/x-www-form-urlencoded` rules (`+` is a space). Unknown keys
//! and values fall back to the defaults: a listing link with a typo still shows a listing.

use http::header::ACCEPT;

use crate::header::{self, HeaderMap, QValue};
use crate::order::{Cursor, Order, SortKey};
use crate::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Format {
    #[default]
    Html,
    Json,
}

/// An archive of the directory's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Download {
    Tar,
    Zip,
}

/// Which page of a listing: `?after=CURSOR` (see `order.rs`) starts after a key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Start {
    #[default]
    First,
    After(Cursor),
    /// A cursor this server did not write for the requested sort: a 400, not a guess.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ListingQuery {
    pub(crate) sort: SortKey,
    pub(crate) order: Order,
    pub(crate) format: Format,
    /// `?download=tar|zip`: the subtree as an archive instead of a listing.
    pub(crate) download: Option<Download>,
    /// `?q=TERM`: search the subtree for names containing TERM; an empty TERM is no search.
    pub(crate) search: Option<String>,
    /// Where the page starts.
    pub(crate) start: Start,
}

/// Reads the listing options from the request's query and its `Accept` header.
pub(crate) fn parse(request: &Request) -> ListingQuery {
    let mut query = ListingQuery::default();
    let mut after = None;
    if prefers_json(&request.headers) {
        query.format = Format::Json;
    }
    for (key, value) in form_urlencoded::parse(request.query_str().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("sort", "name") => query.sort = SortKey::Name,
            ("sort", "size") => query.sort = SortKey::Size,
            ("sort", "time") => query.sort = SortKey::Time,
            ("order", "asc") => query.order = Order::Asc,
            ("order", "desc") => query.order = Order::Desc,
            ("format", "json") => query.format = Format::Json,
            ("format", "html") => query.format = Format::Html,
            ("download", "tar") => query.download = Some(Download::Tar),
            ("download", "zip") => query.download = Some(Download::Zip),
            ("q", term) if !term.trim().is_empty() => query.search = Some(term.to_owned()),
            ("q", _) => query.search = None,
            ("after", cursor) => after = Some(cursor.to_owned()),
            _ => {}
        }
    }
    // Read last, because what a cursor holds depends on the sort.
    if let Some(after) = after {
        query.start = Cursor::parse(&after, query.sort).map_or(Start::Unreadable, Start::After);
    }
    query
}

/// JSON when `Accept` weighs `application/json` above `text/html`: scripts that ask for JSON
/// get it, and browsers, which name `text/html` first, keep the page.
pub(crate) fn prefers_json(headers: &HeaderMap) -> bool {
    let weight = |media| header::weight_of(headers, &ACCEPT, media).unwrap_or(QValue::ZERO);
    let json = weight("application/json");
    !json.is_zero() && json > weight("text/html")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::HeaderValue;

    fn q(target: &str, accept: Option<&str>) -> ListingQuery {
        let mut headers = HeaderMap::default();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        parse(&Request::new(http::Method::GET, target, headers))
    }

    #[test]
    fn query_table() {
        let d = ListingQuery::default();
        let cases: &[(&str, ListingQuery)] = &[
            ("/", d.clone()),
            (
                "/?sort=size",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d.clone()
                },
            ),
            (
                "/?sort=time&order=desc",
                ListingQuery {
                    sort: SortKey::Time,
                    order: Order::Desc,
                    ..d.clone()
                },
            ),
            (
                "/?order=desc&sort=name",
                ListingQuery {
                    order: Order::Desc,
                    ..d.clone()
                },
            ),
            ("/?sort=bogus&order=sideways", d.clone()),
            (
                "/?format=json",
                ListingQuery {
                    format: Format::Json,
                    ..d.clone()
                },
            ),
            (
                "/?download=tar",
                ListingQuery {
                    download: Some(Download::Tar),
                    ..d.clone()
                },
            ),
            (
                "/?download=zip",
                ListingQuery {
                    download: Some(Download::Zip),
                    ..d.clone()
                },
            ),
            ("/?download=7z", d.clone()),
            (
                "/?q=Caf%C3%A9+menu",
                ListingQuery {
                    search: Some("Café menu".to_owned()),
                    ..d.clone()
                },
            ),
            ("/?q=", d.clone()),
            ("/?q=+", d.clone()),
            (
                "/?sort=%73ize",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d.clone()
                },
            ),
            (
                "/?sort=size#frag",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d.clone()
                },
            ),
            (
                "/?&&sort=size&",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d.clone()
                },
            ),
            ("/?SORT=size", d.clone()),
            (
                "/?sort=size&after=f%2F12%2Fa+b",
                ListingQuery {
                    sort: SortKey::Size,
                    start: Start::After(Cursor::parse("f/12/a b", SortKey::Size).unwrap()),
                    ..d.clone()
                },
            ),
            (
                "/?after=f%2F12%2Fab",
                ListingQuery {
                    start: Start::Unreadable,
                    ..d.clone()
                },
            ),
        ];
        for (target, want) in cases {
            assert_eq!(q(target, None), *want, "{target}");
        }
    }

    #[test]
    fn accept_negotiation() {
        let cases: &[(&str, Format)] = &[
            ("application/json", Format::Json),
            ("application/json, */*", Format::Json),
            (
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                Format::Html,
            ),
            ("text/html, application/json", Format::Html),
            ("text/html;q=0.5, application/json", Format::Json),
            ("application/json;q=0", Format::Html),
            ("*/*", Format::Html),
        ];
        for (accept, want) in cases {
            assert_eq!(q("/", Some(accept)).format, *want, "{accept}");
        }
        // The query wins over Accept.
        assert_eq!(
            q("/?format=html", Some("application/json")).format,
            Format::Html
        );
    }
}
