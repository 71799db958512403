//! The query of a directory request (`?sort=size&order=desc&format=json&download=tar`) and
//! the `Accept` negotiation between the HTML and JSON listings.
//!
//! The query uses `application/x-www-form-urlencoded` rules (`+` is a space). Unknown keys
//! and values fall back to the defaults: a listing link with a typo still shows a listing.

use http::header::ACCEPT;
use http::HeaderMap;

use crate::fs::{Order, SortKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Format {
    #[default]
    Html,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ListingQuery {
    pub(crate) sort: SortKey,
    pub(crate) order: Order,
    pub(crate) format: Format,
    /// `?download=tar`: the directory's subtree as a tar archive.
    pub(crate) tar: bool,
}

/// Reads the listing options from a request target's query and its `Accept` header.
pub(crate) fn parse(target: &str, headers: &HeaderMap) -> ListingQuery {
    let mut query = ListingQuery::default();
    if prefers_json(headers) {
        query.format = Format::Json;
    }
    let raw = target
        .split_once('?')
        .map_or("", |(_, q)| q.split_once('#').map_or(q, |(q, _)| q));
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("sort", "name") => query.sort = SortKey::Name,
            ("sort", "size") => query.sort = SortKey::Size,
            ("sort", "time") => query.sort = SortKey::Time,
            ("order", "asc") => query.order = Order::Asc,
            ("order", "desc") => query.order = Order::Desc,
            ("format", "json") => query.format = Format::Json,
            ("format", "html") => query.format = Format::Html,
            ("download", "tar") => query.tar = true,
            _ => {}
        }
    }
    query
}

/// JSON when `Accept` weighs `application/json` above `text/html`: scripts that ask for JSON
/// get it, and browsers, which name `text/html` first, keep the page.
fn prefers_json(headers: &HeaderMap) -> bool {
    let mut json: f32 = 0.0;
    let mut html: f32 = 0.0;
    for value in headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            match range.as_str() {
                "application/json" => json = json.max(q),
                "text/html" => html = html.max(q),
                _ => {}
            }
        }
    }
    json > 0.0 && json > html
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn q(target: &str, accept: Option<&str>) -> ListingQuery {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        parse(target, &headers)
    }

    #[test]
    fn query_table() {
        let d = ListingQuery::default();
        let cases: &[(&str, ListingQuery)] = &[
            ("/", d),
            (
                "/?sort=size",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d
                },
            ),
            (
                "/?sort=time&order=desc",
                ListingQuery {
                    sort: SortKey::Time,
                    order: Order::Desc,
                    ..d
                },
            ),
            (
                "/?order=desc&sort=name",
                ListingQuery {
                    order: Order::Desc,
                    ..d
                },
            ),
            ("/?sort=bogus&order=sideways", d),
            (
                "/?format=json",
                ListingQuery {
                    format: Format::Json,
                    ..d
                },
            ),
            ("/?download=tar", ListingQuery { tar: true, ..d }),
            ("/?download=zip", d),
            (
                "/?sort=%73ize",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d
                },
            ),
            (
                "/?sort=size#frag",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d
                },
            ),
            (
                "/?&&sort=size&",
                ListingQuery {
                    sort: SortKey::Size,
                    ..d
                },
            ),
            ("/?SORT=size", d),
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
