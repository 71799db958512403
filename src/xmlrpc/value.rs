//! XML-RPC values (the specification's scalar, struct and array types, plus `<nil/>` and
//! `<i8>` as the common extensions): a parser over quick-xml events and an encoder.
//!
//! The parser accepts exactly the `methodCall` grammar: no DOCTYPE (so no entities beyond
//! XML's five and character references), nesting capped at [`MAX_DEPTH`], and anything
//! else is a parse fault. Strings keep their whitespace.

use std::fmt::Write as _;

use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Deepest nesting of arrays and structs accepted in a call.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    /// `dateTime.iso8601` as sent (`20261124T02:32:20`).
    DateTime(String),
    Base64(Vec<u8>),
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
    Nil,
}

/// A parsed `methodCall`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// Why a request body is not a method call (becomes a parse fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(message.into()))
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    peeked: Option<Event<'a>>,
}

impl<'a> Parser<'a> {
    /// The next event that matters: declarations, comments and whitespace between elements
    /// are skipped; a DOCTYPE is refused.
    fn next(&mut self) -> Result<Event<'a>, ParseError> {
        if let Some(event) = self.peeked.take() {
            return Ok(event);
        }
        loop {
            match self.reader.read_event() {
                Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_)) => continue,
                Ok(Event::DocType(_)) => return err("DOCTYPE is not allowed"),
                Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(event) => return Ok(event),
                Err(e) => return err(format!("malformed XML: {e}")),
            }
        }
    }

    fn peek(&mut self) -> Result<&Event<'a>, ParseError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.next()?);
        }
        Ok(self.peeked.as_ref().expect("just set"))
    }

    fn start(&mut self, name: &str) -> Result<(), ParseError> {
        match self.next()? {
            Event::Start(e) if e.name().as_ref() == name.as_bytes() => Ok(()),
            other => err(format!("expected <{name}>, found {}", describe(&other))),
        }
    }

    fn end(&mut self, name: &str) -> Result<(), ParseError> {
        match self.next()? {
            Event::End(e) if e.name().as_ref() == name.as_bytes() => Ok(()),
            other => err(format!("expected </{name}>, found {}", describe(&other))),
        }
    }

    /// Character data up to `</name>`, whitespace kept.
    fn text_until(&mut self, name: &str) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            // Whitespace-only text must be kept here, so read raw events.
            let event = match self.peeked.take() {
                Some(event) => event,
                None => self
                    .reader
                    .read_event()
                    .map_err(|e| ParseError(format!("malformed XML: {e}")))?,
            };
            match event {
                Event::Text(t) => out.push_str(
                    &t.unescape()
                        .map_err(|e| ParseError(format!("bad text: {e}")))?,
                ),
                Event::CData(c) => out.push_str(
                    std::str::from_utf8(&c.into_inner())
                        .map_err(|_| ParseError("CDATA is not UTF-8".into()))?,
                ),
                Event::Comment(_) => {}
                Event::End(e) if e.name().as_ref() == name.as_bytes() => return Ok(out),
                other => return err(format!("unexpected {} in <{name}>", describe(&other))),
            }
        }
    }

    /// A `<value>` element (or an empty `<value/>`, the empty string).
    fn element(&mut self, depth: usize) -> Result<Value, ParseError> {
        match self.next()? {
            Event::Start(e) if e.name().as_ref() == b"value" => self.value(depth),
            Event::Empty(e) if e.name().as_ref() == b"value" => Ok(Value::Str(String::new())),
            other => err(format!("expected <value>, found {}", describe(&other))),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return err("values nested too deeply");
        }
        // <value> has been consumed. Untyped text is a string.
        let event = match self.reader.read_event() {
            Ok(event) => event,
            Err(e) => return err(format!("malformed XML: {e}")),
        };
        let value = match event {
            Event::End(e) if e.name().as_ref() == b"value" => return Ok(Value::Str(String::new())),
            Event::Text(t) if !t.iter().all(u8::is_ascii_whitespace) => {
                self.peeked = Some(Event::Text(t));
                return Ok(Value::Str(self.text_until("value")?));
            }
            Event::Text(t) => {
                // Whitespace before a type element, or a whitespace-only string.
                match self.next()? {
                    Event::End(e) if e.name().as_ref() == b"value" => {
                        return Ok(Value::Str(
                            t.unescape()
                                .map_err(|e| ParseError(e.to_string()))?
                                .into_owned(),
                        ))
                    }
                    other => self.typed(other, depth)?,
                }
            }
            other => self.typed(other, depth)?,
        };
        self.end("value")?;
        Ok(value)
    }

    fn typed(&mut self, event: Event<'a>, depth: usize) -> Result<Value, ParseError> {
        let (name, empty) = match &event {
            Event::Start(e) => (
                String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                false,
            ),
            Event::Empty(e) => (
                String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                true,
            ),
            other => {
                return err(format!(
                    "expected a type element, found {}",
                    describe(other)
                ))
            }
        };
        let text = |p: &mut Parser<'a>| -> Result<String, ParseError> {
            if empty {
                Ok(String::new())
            } else {
                p.text_until(&name)
            }
        };
        let value = match name.as_str() {
            "i4" | "int" | "i8" => {
                let t = text(self)?;
                Value::Int(
                    t.trim()
                        .parse()
                        .map_err(|_| ParseError(format!("bad integer {t:?}")))?,
                )
            }
            "boolean" => match text(self)?.trim() {
                "1" => Value::Bool(true),
                "0" => Value::Bool(false),
                other => return err(format!("bad boolean {other:?}")),
            },
            "string" => Value::Str(text(self)?),
            "double" => {
                let t = text(self)?;
                Value::Double(
                    t.trim()
                        .parse()
                        .map_err(|_| ParseError(format!("bad double {t:?}")))?,
                )
            }
            "dateTime.iso8601" => Value::DateTime(text(self)?.trim().to_owned()),
            "base64" => {
                let t = text(self)?;
                let clean: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                Value::Base64(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|_| ParseError("bad base64".into()))?,
                )
            }
            "nil" => {
                if !empty {
                    self.end("nil")?;
                }
                Value::Nil
            }
            "array" if !empty => {
                self.start("data")?;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::Start(e) if e.name().as_ref() == b"value" => {
                            items.push(self.value(depth + 1)?)
                        }
                        Event::Empty(e) if e.name().as_ref() == b"value" => {
                            items.push(Value::Str(String::new()))
                        }
                        Event::End(e) if e.name().as_ref() == b"data" => break,
                        other => return err(format!("unexpected {} in <data>", describe(&other))),
                    }
                }
                self.end("array")?;
                Value::Array(items)
            }
            "struct" => {
                let mut members = Vec::new();
                if !empty {
                    loop {
                        match self.next()? {
                            Event::Start(e) if e.name().as_ref() == b"member" => {
                                self.start("name")?;
                                let key = self.text_until("name")?;
                                let value = self.element(depth + 1)?;
                                self.end("member")?;
                                members.push((key, value));
                            }
                            Event::End(e) if e.name().as_ref() == b"struct" => break,
                            other => {
                                return err(format!("unexpected {} in <struct>", describe(&other)))
                            }
                        }
                    }
                }
                Value::Struct(members)
            }
            other => return err(format!("unknown type <{other}>")),
        };
        Ok(value)
    }
}

fn describe(event: &Event<'_>) -> String {
    match event {
        Event::Start(e) => format!("<{}>", String::from_utf8_lossy(e.name().as_ref())),
        Event::End(e) => format!("</{}>", String::from_utf8_lossy(e.name().as_ref())),
        Event::Empty(e) => format!("<{}/>", String::from_utf8_lossy(e.name().as_ref())),
        Event::Eof => "the end of the document".into(),
        Event::Text(_) => "text".into(),
        _ => "markup".into(),
    }
}

/// Parses a `methodCall` document.
pub fn parse_call(body: &[u8]) -> Result<Call, ParseError> {
    let mut p = Parser {
        reader: Reader::from_reader(body),
        peeked: None,
    };
    p.start("methodCall")?;
    p.start("methodName")?;
    let method = p.text_until("methodName")?.trim().to_owned();
    let mut params = Vec::new();
    match p.next()? {
        Event::Start(e) if e.name().as_ref() == b"params" => loop {
            match p.next()? {
                Event::Start(e) if e.name().as_ref() == b"param" => {
                    params.push(p.element(1)?);
                    p.end("param")?;
                }
                Event::End(e) if e.name().as_ref() == b"params" => break,
                other => return err(format!("unexpected {} in <params>", describe(&other))),
            }
        },
        Event::Empty(e) if e.name().as_ref() == b"params" => {}
        Event::End(e) if e.name().as_ref() == b"methodCall" => {
            p.peeked = Some(Event::End(e));
        }
        other => return err(format!("unexpected {}", describe(&other))),
    }
    p.end("methodCall")?;
    match p.peek()? {
        Event::Eof => Ok(Call { method, params }),
        other => err(format!("trailing {}", describe(other))),
    }
}

/// Appends the XML for `value` (a `<value>` element).
pub fn encode(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Int(i) if i32::try_from(*i).is_ok() => {
            let _ = write!(out, "<int>{i}</int>");
        }
        Value::Int(i) => {
            let _ = write!(out, "<i8>{i}</i8>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::Str(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            let _ = write!(out, "<double>{d:?}</double>");
        }
        Value::DateTime(t) => {
            out.push_str("<dateTime.iso8601>");
            escape_into(out, t);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(bytes) => {
            out.push_str("<base64>");
            base64::engine::general_purpose::STANDARD.encode_string(bytes, out);
            out.push_str("</base64>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>");
            for (name, value) in members {
                out.push_str("<member><name>");
                escape_into(out, name);
                out.push_str("</name>");
                encode(out, value);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                encode(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

/// XML escaping for text content; characters XML 1.0 cannot carry become U+FFFD.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(params: &str) -> String {
        format!("<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n{params}</params>\n</methodCall>\n")
    }

    fn round_trip(value: Value) {
        let mut xml = String::new();
        encode(&mut xml, &value);
        let parsed = parse_call(call(&format!("<param>{xml}</param>")).as_bytes()).unwrap();
        assert_eq!(parsed.params, vec![value], "{xml}");
    }

    #[test]
    fn every_type_round_trips() {
        let values = [
            Value::Int(0),
            Value::Int(-2147483648),
            Value::Int(2147483647),
            Value::Int(1 << 40),
            Value::Int(-(1 << 40)),
            Value::Bool(true),
            Value::Bool(false),
            Value::Str(String::new()),
            Value::Str("  spaced  ".into()),
            Value::Str("<&> \"quotes\" 'apos' ünïcødé 日本 \n\ttabs\r".into()),
            Value::Double(0.5),
            Value::Double(-1e300),
            Value::DateTime("20261124T02:32:20".into()),
            Value::Base64(vec![]),
            Value::Base64((0..=255).collect()),
            Value::Nil,
            Value::Array(vec![]),
            Value::Array(vec![Value::Int(1), Value::Str("two".into()), Value::Nil]),
            Value::Struct(vec![]),
            Value::Struct(vec![
                ("a".into(), Value::Int(1)),
                (
                    "b <&>".into(),
                    Value::Array(vec![Value::Struct(vec![("c".into(), Value::Bool(true))])]),
                ),
            ]),
        ];
        for value in values {
            round_trip(value);
        }
    }

    #[test]
    fn python_client_shapes() {
        // What xmlrpc.client sends: untyped strings, <int>, <i4>, <boolean>, <nil/>.
        let body = call(
            "<param>\n<value><string>/docs</string></value>\n</param>\n\
             <param>\n<value>untyped text</value>\n</param>\n\
             <param>\n<value><i4>7</i4></value>\n</param>\n\
             <param>\n<value><nil/></value></param>\n\
             <param><value/></param>\n\
             <param><value><string/></value></param>\n",
        );
        let parsed = parse_call(body.as_bytes()).unwrap();
        assert_eq!(parsed.method, "m");
        assert_eq!(
            parsed.params,
            vec![
                Value::Str("/docs".into()),
                Value::Str("untyped text".into()),
                Value::Int(7),
                Value::Nil,
                Value::Str(String::new()),
                Value::Str(String::new()),
            ]
        );
        let empty =
            parse_call(b"<methodCall><methodName>system.listMethods</methodName></methodCall>")
                .unwrap();
        assert!(empty.params.is_empty());
        let empty =
            parse_call(b"<methodCall><methodName>x</methodName><params/></methodCall>").unwrap();
        assert!(empty.params.is_empty());
    }

    #[test]
    fn hostile_documents_are_parse_errors() {
        let nested = format!(
            "{}{}",
            "<value><array><data>".repeat(100),
            "</data></array></value>".repeat(100)
        );
        let bad = [
            String::new(),
            "not xml at all".into(),
            "<methodCall>".into(),
            "<methodCall><methodName>x</methodName><params><param><value><int>1</int></value></params></methodCall>".into(),
            "<!DOCTYPE lol [<!ENTITY a \"aaaa\">]><methodCall><methodName>&a;</methodName></methodCall>".into(),
            "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><methodCall><methodName>x</methodName></methodCall>".into(),
            "<methodCall><methodName>&xxe;</methodName></methodCall>".into(),
            call("<param><value><int>12x</int></value></param>"),
            call("<param><value><int>99999999999999999999</int></value></param>"),
            call("<param><value><boolean>2</boolean></value></param>"),
            call("<param><value><base64>!!!</base64></value></param>"),
            call("<param><value><unknown>1</unknown></value></param>"),
            call(&format!("<param>{nested}</param>")),
            "<methodCall><methodName>x</methodName></methodCall><extra/>".into(),
            "<methodResponse><params/></methodResponse>".into(),
        ];
        for body in bad {
            assert!(parse_call(body.as_bytes()).is_err(), "accepted: {body:.80}");
        }
    }
}
