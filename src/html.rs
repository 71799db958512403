//! HTML text escaping, for every page the component generates (listings, search results,
//! the XML-RPC documentation, error pages): text and double- or single-quoted attribute
//! values (HTML Living Standard §13.1.2.3, §13.5) can then hold any name from the disk.
//! Also the fixed fragments pages share, such as the upload form.

/// Escapes `text` for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as [`escape`] does, without a temporary string.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    // The five characters are ASCII, so the text splits at their byte positions into runs
    // that are pushed whole (a push per character was a listing's largest escaping cost).
    let mut plain = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[plain..at]);
        out.push_str(entity);
        plain = at + 1;
    }
    out.push_str(&text[plain..]);
}

/// The listing's upload form: a file input for several files, posting `multipart/form-data`
/// to the directory the page shows. Plain HTML, so it works without JavaScript.
pub(crate) fn push_form(html: &mut String) {
    html.push_str(
        "<form method=\"post\" action=\"./\" enctype=\"multipart/form-data\" \
style=\"margin:.75rem 0\"><label>Upload files \
<input type=\"file\" name=\"file\" multiple required></label> \
<button type=\"submit\">Upload</button></form>\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("naïve 日本"), "naïve 日本");
        let mut out = String::from("x");
        push_escaped(&mut out, "&");
        assert_eq!(out, "x&amp;");
    }
}
