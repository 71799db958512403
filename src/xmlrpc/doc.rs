//! The documentation page at `GET /RPC2`, like `DocXMLRPCServer`'s: every method with its
//! signature and help, then the types, limits and fault codes, all rendered from the same
//! tables the server runs on ([`METHODS`], [`FAULTS`]). Static HTML, no script.

use std::fmt::Write as _;

use super::methods::METHODS;
use super::value::MAX_DEPTH;
use super::{size, FAULTS, MAX_BODY, MAX_ENTRIES, MAX_READ};
use crate::html::escape;

const STYLE: &str = "<style>:root{color-scheme:light dark}\
body{font:15px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem}\
code,pre{font-size:95%}pre{background:#8881;padding:.6rem;overflow-x:auto}\
h3{margin-bottom:.2rem}h3 code{font-size:100%}dd{margin-bottom:.3rem}\
table{border-collapse:collapse}th,td{padding:.2rem .6rem;text-align:left;vertical-align:top}\
tr:nth-child(even){background:#8881}\
@media(prefers-color-scheme:dark){body{background:#15171a;color:#ddd}a{color:#8ab4f8}}\
</style>\n";

/// The page, the same for every request.
pub(crate) fn doc_page() -> String {
    let mut html = String::with_capacity(8 << 10);
    html.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sandserve XML-RPC API</title>\n",
    );
    html.push_str(STYLE);
    let _ = write!(
        html,
        "</head>\n<body>\n<h1>sandserve XML-RPC API</h1>\n\
         <p>POST an XML-RPC <code>methodCall</code> to this address \
         (<code>Content-Type: text/xml</code>, at most {body}). The API is read-only. Paths name \
         files relative to the served directory: a leading <code>/</code> is optional, each \
         name is taken literally (no percent-decoding), and <code>..</code> cannot leave the \
         directory. Dot-files are hidden unless the server runs with <code>--hidden</code>.</p>\n\
         <pre>import xmlrpc.client\n\
         server = xmlrpc.client.ServerProxy(\"http://127.0.0.1:8000/RPC2\")\n\
         server.files.list(\"/\")\n\
         server.files.read(\"notes.txt\", 0, 100).data</pre>\n\
         <h2>Methods</h2>\n",
        body = size(MAX_BODY),
    );
    for method in METHODS {
        let _ = write!(
            html,
            "<h3 id=\"{id}\"><code>{usage}</code></h3>\n<p>{help}</p>\n",
            id = escape(method.name),
            usage = escape(&method.usage()),
            help = escape(&method.help()),
        );
    }
    let _ = write!(
        html,
        "<h2>Types</h2>\n<dl>\n\
         <dt><code>int</code></dt><dd>Sizes up to 2<sup>31</sup> - 1 are <code>&lt;int&gt;</code>; \
         larger ones use the <code>&lt;i8&gt;</code> extension, which Python's client reads. \
         <code>&lt;i4&gt;</code> and <code>&lt;i8&gt;</code> are accepted too, and whole \
         <code>&lt;double&gt;</code>s where an offset or length is expected.</dd>\n\
         <dt><code>dateTime.iso8601</code></dt><dd>Always UTC, written and read as \
         <code>YYYYMMDDTHH:MM:SS</code>.</dd>\n\
         <dt><code>nil</code></dt><dd>The <code>&lt;nil/&gt;</code> extension: an unknown \
         modification time, or an omitted argument.</dd>\n\
         <dt>others</dt><dd><code>boolean</code>, <code>string</code> (an untyped value is a \
         string), <code>double</code>, <code>base64</code>, <code>struct</code> and \
         <code>array</code>, as the specification defines them. Documents with a DOCTYPE are \
         refused, so no entity can be declared or fetched; values nest at most {MAX_DEPTH} deep.</dd>\n\
         </dl>\n<h2>Limits</h2>\n\
         <p>One request, including every call in a <code>system.multicall</code>, returns at \
         most {read} of file contents and lists at most {MAX_ENTRIES} directory entries; a call past \
         either limit is a fault with code 5 and the others still answer.</p>\n\
         <h2>Faults</h2>\n<table>\n<thead><tr><th scope=\"col\">faultCode</th>\
         <th scope=\"col\">meaning</th></tr></thead>\n<tbody>\n",
        read = size(MAX_READ),
    );
    for fault in FAULTS {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            fault.code(),
            escape(&fault.meaning())
        );
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_every_method_and_fault() {
        let page = doc_page();
        assert!(page
            .starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
        assert!(page.contains("name=\"viewport\""));
        assert!(page.ends_with("</html>\n"));
        assert!(!page.contains("<script"));
        for method in METHODS {
            assert!(
                page.contains(&format!("<h3 id=\"{}\">", method.name)),
                "{}",
                method.name
            );
            assert!(page.contains(&escape(&method.usage())), "{}", method.name);
            assert!(page.contains(&escape(&method.help())), "{}", method.name);
        }
        for fault in FAULTS {
            let row = format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                fault.code(),
                escape(&fault.meaning())
            );
            assert!(page.contains(&row), "{row}");
        }
        // The limits are rendered from the constants (the README quotes these values).
        for sentence in [
            "at most 1 MiB)",
            "returns at most 16 MiB of file contents and lists at most 32768 directory entries",
            "values nest at most 64 deep",
            "At most 16 MiB per call",
        ] {
            assert!(page.contains(sentence), "{sentence}");
        }
        assert_eq!(
            (MAX_BODY, MAX_READ, MAX_ENTRIES, MAX_DEPTH),
            (1 << 20, 16 << 20, 32768, 64)
        );
    }

    #[test]
    fn tags_balance() {
        let page = doc_page();
        for tag in [
            "html", "head", "body", "h1", "h2", "h3", "p", "dl", "dt", "dd", "table", "tr", "td",
            "th", "code", "pre", "sup",
        ] {
            let opens = page.matches(&format!("<{tag}>")).count()
                + page.matches(&format!("<{tag} ")).count();
            let closes = page.matches(&format!("</{tag}>")).count();
            assert_eq!(opens, closes, "<{tag}>");
        }
    }
}
