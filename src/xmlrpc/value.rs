//! XML-RPC values (<https://xmlrpc.com/spec.md>) and the `methodCall` document, read with
//! quick-xml and written by hand.
//!
//! Reading is strict about structure and lenient about what real clients vary in:
//! - A DOCTYPE anywhere is refused, so no entity can be declared: only XML's five predefined
//!   entities and character references are expanded, and nothing is ever fetched.
//! - Every element must be one the grammar knows; text is allowed only inside `<value>`, the
//!   scalar types and `<name>`/`<methodName>`; whitespace between elements, comments,
//!   processing instructions and a UTF-8 BOM are skipped; attributes are ignored.
//! - Values nest at most [`MAX_DEPTH`] deep, checked before recursing, so no body can exhaust
//!   the stack (quick-xml itself does not recurse).
//! - `<int>`, `<i4>` and `<i8>` all read as 64-bit integers (the spec's `int` is 32-bit, but
//!   64-bit clients send larger ones); `<value>text</value>` and `<value/>` are strings;
//!   `<nil/>` is the common extension; `<double>` takes whatever Rust's `f64` parser takes
//!   (exponents, `nan`, `inf`); `<base64>` may wrap lines and omit padding; dateTime has
//!   one form ([`DateTime::parse`]). Strings keep their whitespace; numbers are trimmed.
//!
//! Writing follows the spec's forms: `<int>` for integers that fit 32 bits and the `<i8>`
//! extension beyond (Python's and Apache's clients read it); doubles in plain decimal
//! notation, which the spec requires (the non-finite ones, which it cannot express, as
//! Python spells them); text escaped for XML 1.0, with the control characters XML cannot
//! carry at all replaced by U+FFFD.

use std::fmt::Write as _;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::Reader;

pub(crate) use super::datetime::DateTime;

/// Deepest nesting of values accepted: a parameter is depth 1, its array's items depth 2.
pub(crate) const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    DateTime(DateTime),
    Base64(Vec<u8>),
    /// Members in document order. Names may repeat; [`Value::member`] takes the last, as a
    /// dictionary-building client would.
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
    Nil,
}

impl Value {
    /// The struct member called `name`, if this is a struct that has one.
    pub(crate) fn member(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members.iter().rev().find(|(n, _)| n == name).map(|m| &m.1),
            _ => None,
        }
    }

    /// The spec's name for this value's type, as `system.methodSignature` uses them.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::Str(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }
}

/// A parsed `methodCall`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) params: Vec<Value>,
}

/// Why a body is not a method call. The text goes into the fault string, so it names
/// elements and types, never more than a short excerpt of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Parsed<T> = Result<T, ParseError>;

fn fail<T>(message: impl Into<String>) -> Parsed<T> {
    Err(ParseError(message.into()))
}

/// Parses a `methodCall` document.
pub(crate) fn parse_call(body: &[u8]) -> Parsed<Call> {
    let mut p = Parser::new(body);
    p.open(Tag::MethodCall)?;
    p.open(Tag::MethodName)?;
    let method = p.scalar(Tag::MethodName)?.trim().to_owned();
    let mut params = Vec::new();
    p.skip_space()?;
    match p.next()? {
        Token::Open(Tag::Params) => {
            loop {
                p.skip_space()?;
                match p.next()? {
                    Token::Open(Tag::Param) => {
                        p.open(Tag::Value)?;
                        params.push(p.value(1)?);
                        p.close(Tag::Param)?;
                    }
                    Token::Close(Tag::Params) => break,
                    other => return fail(format!("{} in <params>", other.describe())),
                }
            }
            p.close(Tag::MethodCall)?;
        }
        Token::Close(Tag::MethodCall) => {}
        other => return fail(format!("{} after </methodName>", other.describe())),
    }
    p.finish()?;
    Ok(Call { method, params })
}

/// Parses a `methodResponse`: the value, or the fault's `(faultCode, faultString)`. The
/// server never reads responses; tests use this to check what it writes.
#[cfg(test)]
pub(crate) fn parse_response(body: &[u8]) -> Parsed<Result<Value, (i64, String)>> {
    let mut p = Parser::new(body);
    p.open(Tag::MethodResponse)?;
    p.skip_space()?;
    let result = match p.next()? {
        Token::Open(Tag::Params) => {
            p.open(Tag::Param)?;
            p.open(Tag::Value)?;
            let value = p.value(1)?;
            p.close(Tag::Param)?;
            p.close(Tag::Params)?;
            Ok(value)
        }
        Token::Open(Tag::Fault) => {
            p.open(Tag::Value)?;
            let fault = p.value(1)?;
            p.close(Tag::Fault)?;
            match (fault.member("faultCode"), fault.member("faultString")) {
                (Some(Value::Int(code)), Some(Value::Str(text))) => Err((*code, text.clone())),
                _ => return fail("a fault is {faultCode: int, faultString: string}"),
            }
        }
        other => return fail(format!("{} in <methodResponse>", other.describe())),
    };
    p.close(Tag::MethodResponse)?;
    p.finish()?;
    Ok(result)
}

/// The elements of the grammar. Anything else is refused as soon as it opens, so a body of
/// unknown markup costs no more than its first tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    MethodCall,
    MethodResponse,
    MethodName,
    Params,
    Param,
    Fault,
    Value,
    /// `<int>` and `<i4>`, the spec's two spellings; quick-xml checks each closes as opened.
    Int,
    I8,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Nil,
    Struct,
    Member,
    Name,
    Array,
    Data,
}

impl Tag {
    fn from_name(name: &[u8]) -> Option<Tag> {
        Some(match name {
            b"methodCall" => Tag::MethodCall,
            b"methodResponse" => Tag::MethodResponse,
            b"methodName" => Tag::MethodName,
            b"params" => Tag::Params,
            b"param" => Tag::Param,
            b"fault" => Tag::Fault,
            b"value" => Tag::Value,
            b"int" | b"i4" => Tag::Int,
            b"i8" => Tag::I8,
            b"boolean" => Tag::Boolean,
            b"string" => Tag::String,
            b"double" => Tag::Double,
            b"dateTime.iso8601" => Tag::DateTime,
            b"base64" => Tag::Base64,
            b"nil" => Tag::Nil,
            b"struct" => Tag::Struct,
            b"member" => Tag::Member,
            b"name" => Tag::Name,
            b"array" => Tag::Array,
            b"data" => Tag::Data,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Tag::MethodCall => "methodCall",
            Tag::MethodResponse => "methodResponse",
            Tag::MethodName => "methodName",
            Tag::Params => "params",
            Tag::Param => "param",
            Tag::Fault => "fault",
            Tag::Value => "value",
            Tag::Int => "int",
            Tag::I8 => "i8",
            Tag::Boolean => "boolean",
            Tag::String => "string",
            Tag::Double => "double",
            Tag::DateTime => "dateTime.iso8601",
            Tag::Base64 => "base64",
            Tag::Nil => "nil",
            Tag::Struct => "struct",
            Tag::Member => "member",
            Tag::Name => "name",
            Tag::Array => "array",
            Tag::Data => "data",
        }
    }
}

/// What the grammar sees: known elements opening and closing, and decoded text.
#[derive(Debug)]
enum Token {
    Open(Tag),
    Close(Tag),
    Text(String),
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Open(tag) => format!("unexpected <{}>", tag.name()),
            Token::Close(tag) => format!("unexpected </{}>", tag.name()),
            Token::Text(_) => "unexpected text".to_owned(),
            Token::End => "unexpected end of document".to_owned(),
        }
    }
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    peeked: Option<Token>,
}

impl<'a> Parser<'a> {
    fn new(body: &'a [u8]) -> Parser<'a> {
        let mut reader = Reader::from_reader(body);
        // `<nil/>` then reads as `<nil></nil>`, so the grammar has one shape per element.
        reader.config_mut().expand_empty_elements = true;
        Parser {
            reader,
            peeked: None,
        }
    }

    fn next(&mut self) -> Parsed<Token> {
        if let Some(token) = self.peeked.take() {
            return Ok(token);
        }
        loop {
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => return fail(format!("malformed XML: {e}")),
            };
            return Ok(match event {
                Event::Start(e) => Token::Open(known(e.name().as_ref())?),
                Event::End(e) => Token::Close(known(e.name().as_ref())?),
                Event::Text(t) => match t.unescape() {
                    Ok(text) => Token::Text(text.into_owned()),
                    Err(e) => return fail(format!("malformed text: {e}")),
                },
                Event::CData(c) => match String::from_utf8(c.into_inner().into_owned()) {
                    Ok(text) => Token::Text(text),
                    Err(_) => return fail("CDATA is not UTF-8"),
                },
                Event::DocType(_) => return fail("DOCTYPE is not allowed"),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => continue,
                // Not produced with `expand_empty_elements`; refused rather than trusted.
                Event::Empty(_) => return fail("unexpected empty element"),
                Event::Eof => Token::End,
            });
        }
    }

    fn peek(&mut self) -> Parsed<&Token> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.next()?,
        };
        Ok(self.peeked.insert(token))
    }

    /// All text up to the next element or end, joined (a comment may split it).
    fn text(&mut self) -> Parsed<String> {
        let mut out = String::new();
        while let Token::Text(_) = self.peek()? {
            if let Some(Token::Text(text)) = self.peeked.take() {
                out.push_str(&text);
            }
        }
        Ok(out)
    }

    /// Skips whitespace where the grammar has only elements; other text is an error.
    fn skip_space(&mut self) -> Parsed<()> {
        if blank(&self.text()?) {
            Ok(())
        } else {
            fail("unexpected text between elements")
        }
    }

    fn open(&mut self, tag: Tag) -> Parsed<()> {
        self.skip_space()?;
        match self.next()? {
            Token::Open(t) if t == tag => Ok(()),
            other => fail(format!("{}, expected <{}>", other.describe(), tag.name())),
        }
    }

    fn close(&mut self, tag: Tag) -> Parsed<()> {
        self.skip_space()?;
        match self.next()? {
            Token::Close(t) if t == tag => Ok(()),
            other => fail(format!("{}, expected </{}>", other.describe(), tag.name())),
        }
    }

    /// The text content of `tag`, already opened, through its close.
    fn scalar(&mut self, tag: Tag) -> Parsed<String> {
        let text = self.text()?;
        match self.next()? {
            Token::Close(t) if t == tag => Ok(text),
            other => fail(format!("{} in <{}>", other.describe(), tag.name())),
        }
    }

    /// Only whitespace, comments and processing instructions may follow the root.
    fn finish(&mut self) -> Parsed<()> {
        let trailing = self.text()?;
        match self.next()? {
            Token::End if blank(&trailing) => Ok(()),
            Token::End => fail("text after the document"),
            other => fail(format!("{} after the document", other.describe())),
        }
    }

    /// The content of a `<value>` (already opened) through `</value>`.
    fn value(&mut self, depth: usize) -> Parsed<Value> {
        if depth > MAX_DEPTH {
            return fail(format!("values nest deeper than {MAX_DEPTH}"));
        }
        let text = self.text()?;
        match self.next()? {
            Token::Close(Tag::Value) => Ok(Value::Str(text)),
            Token::Open(tag) if blank(&text) => {
                let value = self.typed(tag, depth)?;
                self.close(Tag::Value)?;
                Ok(value)
            }
            other => fail(format!("{} in <value>", other.describe())),
        }
    }

    /// The value of type `tag`, already opened, through its close.
    fn typed(&mut self, tag: Tag, depth: usize) -> Parsed<Value> {
        Ok(match tag {
            Tag::Int | Tag::I8 => {
                let text = self.scalar(tag)?;
                match text.trim().parse() {
                    Ok(n) => Value::Int(n),
                    Err(_) => return fail(format!("bad <{}> {}", tag.name(), excerpt(&text))),
                }
            }
            Tag::Boolean => match self.scalar(tag)?.trim() {
                "1" => Value::Bool(true),
                "0" => Value::Bool(false),
                other => return fail(format!("bad <boolean> {}", excerpt(other))),
            },
            Tag::String => Value::Str(self.scalar(tag)?),
            Tag::Double => {
                let text = self.scalar(tag)?;
                match text.trim().parse() {
                    Ok(d) => Value::Double(d),
                    Err(_) => return fail(format!("bad <double> {}", excerpt(&text))),
                }
            }
            Tag::DateTime => {
                let text = self.scalar(tag)?;
                match DateTime::parse(&text) {
                    Some(t) => Value::DateTime(t),
                    None => return fail(format!("bad <dateTime.iso8601> {}", excerpt(&text))),
                }
            }
            Tag::Base64 => {
                let mut text = self.scalar(tag)?;
                text.retain(|c| !c.is_ascii_whitespace());
                match BASE64_IN.decode(text) {
                    Ok(bytes) => Value::Base64(bytes),
                    Err(_) => return fail("bad <base64>"),
                }
            }
            Tag::Nil => {
                self.close(Tag::Nil)?;
                Value::Nil
            }
            Tag::Array => {
                let mut items = Vec::new();
                self.skip_space()?;
                // `<array/>` is empty too; the spec always writes `<data>`.
                if let Token::Open(Tag::Data) = self.peek()? {
                    self.next()?;
                    loop {
                        self.skip_space()?;
                        match self.next()? {
                            Token::Open(Tag::Value) => items.push(self.value(depth + 1)?),
                            Token::Close(Tag::Data) => break,
                            other => return fail(format!("{} in <data>", other.describe())),
                        }
                    }
                }
                self.close(Tag::Array)?;
                Value::Array(items)
            }
            Tag::Struct => {
                let mut members = Vec::new();
                loop {
                    self.skip_space()?;
                    match self.next()? {
                        Token::Open(Tag::Member) => {
                            self.open(Tag::Name)?;
                            let name = self.scalar(Tag::Name)?;
                            self.open(Tag::Value)?;
                            members.push((name, self.value(depth + 1)?));
                            self.close(Tag::Member)?;
                        }
                        Token::Close(Tag::Struct) => break,
                        other => return fail(format!("{} in <struct>", other.describe())),
                    }
                }
                Value::Struct(members)
            }
            other => return fail(format!("<{}> is not a value type", other.name())),
        })
    }
}

/// XML's whitespace (space, tab, CR, LF) and nothing else.
fn blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn known(name: &[u8]) -> Parsed<Tag> {
    match Tag::from_name(name) {
        Some(tag) => Ok(tag),
        None => fail(format!(
            "unknown element <{}>",
            clip(&String::from_utf8_lossy(name))
        )),
    }
}

/// Client input quoted in an error message: at most 32 characters of it.
fn excerpt(text: &str) -> String {
    format!("{:?}", clip(text.trim()))
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(32) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Base64 as clients send it: the standard alphabet, padding optional.
const BASE64_IN: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Appends `value` as a `<value>` element.
pub(crate) fn encode(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Int(n) if i32::try_from(*n).is_ok() => {
            let _ = write!(out, "<int>{n}</int>");
        }
        Value::Int(n) => {
            let _ = write!(out, "<i8>{n}</i8>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::Str(text) => {
            out.push_str("<string>");
            escape_into(out, text);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            out.push_str("<double>");
            push_double(out, *d);
            out.push_str("</double>");
        }
        Value::DateTime(t) => {
            let _ = write!(out, "<dateTime.iso8601>{t}</dateTime.iso8601>");
        }
        Value::Base64(bytes) => {
            out.push_str("<base64>");
            // Up to 16 MiB of file goes through here: size the string once, not by doubling.
            out.reserve(bytes.len().div_ceil(3) * 4 + "</base64></value>".len());
            STANDARD.encode_string(bytes, out);
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

/// Plain decimal, never an exponent (Rust's `Display` for `f64` is the shortest string that
/// reads back exactly), with `.0` on whole numbers so it looks like the double it is.
fn push_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("nan");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "inf" } else { "-inf" });
    } else {
        let start = out.len();
        let _ = write!(out, "{d}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

/// Escapes text content. `\r` is written as a reference because XML parsers turn a literal
/// one into `\n`; the C0 controls other than tab and newline, U+FFFE and U+FFFF cannot be
/// carried by XML 1.0 in any form, so they become U+FFFD rather than break the document.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call document the way Python's `xmlrpc.client` lays one out.
    fn call_with(params: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n{params}</params>\n</methodCall>\n"
        )
    }

    fn parse_params(params: &str) -> Parsed<Vec<Value>> {
        parse_call(call_with(params).as_bytes()).map(|c| c.params)
    }

    fn encoded(value: &Value) -> String {
        let mut xml = String::new();
        encode(&mut xml, value);
        xml
    }

    fn round_trip(value: &Value) -> Value {
        let xml = encoded(value);
        let mut params = parse_params(&format!("<param>{xml}</param>\n"))
            .unwrap_or_else(|e| panic!("{xml}: {e}"));
        assert_eq!(params.len(), 1);
        params.remove(0)
    }

    fn time(text: &str) -> Value {
        Value::DateTime(DateTime::parse(text).unwrap())
    }

    #[test]
    fn every_type_round_trips() {
        let values = [
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i32::MIN.into()),
            Value::Int(i32::MAX.into()),
            Value::Int(i64::from(i32::MAX) + 1),
            Value::Int(i64::from(i32::MIN) - 1),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Bool(true),
            Value::Bool(false),
            Value::Str(String::new()),
            Value::Str("  spaced  \n".into()),
            Value::Str(" ".into()),
            Value::Str("<&> \"quotes\" 'apos' ]]> ünïcødé 日本 😀 \t\r\n\r".into()),
            Value::Str("&amp; is not unescaped twice".into()),
            Value::Double(0.0),
            Value::Double(-0.5),
            Value::Double(1.0),
            Value::Double(0.1),
            Value::Double(-1e300),
            Value::Double(5e-324),
            Value::Double(f64::MAX),
            Value::Double(f64::INFINITY),
            Value::Double(f64::NEG_INFINITY),
            time("20231114T22:13:20"),
            time("00000101T00:00:00"),
            time("99991231T23:59:59"),
            Value::Base64(vec![]),
            Value::Base64(vec![0]),
            Value::Base64((0..=255).collect()),
            Value::Nil,
            Value::Array(vec![]),
            Value::Array(vec![Value::Int(1), Value::Str("two".into()), Value::Nil]),
            Value::Struct(vec![]),
            Value::Struct(vec![
                ("a".into(), Value::Int(1)),
                ("".into(), Value::Str("empty name".into())),
                (
                    " b <&> ".into(),
                    Value::Array(vec![Value::Struct(vec![("c".into(), Value::Bool(true))])]),
                ),
            ]),
        ];
        for value in &values {
            assert_eq!(&round_trip(value), value, "{}", encoded(value));
        }
        // Not equal to itself, so checked by kind.
        assert!(matches!(round_trip(&Value::Double(f64::NAN)), Value::Double(d) if d.is_nan()));
    }

    #[test]
    fn written_forms() {
        let cases: &[(Value, &str)] = &[
            (Value::Int(7), "<int>7</int>"),
            (Value::Int(1 << 31), "<i8>2147483648</i8>"),
            (Value::Bool(true), "<boolean>1</boolean>"),
            (Value::Double(1.0), "<double>1.0</double>"),
            (Value::Double(-0.25), "<double>-0.25</double>"),
            (
                Value::Double(1e21),
                "<double>1000000000000000000000.0</double>",
            ),
            (Value::Double(1e-7), "<double>0.0000001</double>"),
            (Value::Double(f64::NAN), "<double>nan</double>"),
            (
                Value::Str("a<b>&c\r\u{1}\u{ffff}".into()),
                "<string>a&lt;b&gt;&amp;c&#13;\u{fffd}\u{fffd}</string>",
            ),
            (
                time("20231114T22:13:20"),
                "<dateTime.iso8601>20231114T22:13:20</dateTime.iso8601>",
            ),
            (Value::Base64(b"hi!".to_vec()), "<base64>aGkh</base64>"),
            (Value::Nil, "<nil/>"),
            (Value::Array(vec![]), "<array><data></data></array>"),
            (
                Value::Struct(vec![("k".into(), Value::Nil)]),
                "<struct><member><name>k</name><value><nil/></value></member></struct>",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(encoded(value), format!("<value>{want}</value>"));
        }
    }

    #[test]
    fn lenient_reading() {
        let cases: &[(&str, Value)] = &[
            ("<value>untyped</value>", Value::Str("untyped".into())),
            (
                "<value>  untyped, spaced </value>",
                Value::Str("  untyped, spaced ".into()),
            ),
            ("<value></value>", Value::Str(String::new())),
            ("<value/>", Value::Str(String::new())),
            ("<value>\n</value>", Value::Str("\n".into())),
            ("<value><string/></value>", Value::Str(String::new())),
            (
                "<value>\n  <string>x</string>\n</value>",
                Value::Str("x".into()),
            ),
            (
                "<value><string>a<!-- c -->b</string></value>",
                Value::Str("ab".into()),
            ),
            (
                "<value><string><![CDATA[<&>]]></string></value>",
                Value::Str("<&>".into()),
            ),
            (
                "<value><string>&#x65E5;&#26412;&lt;</string></value>",
                Value::Str("日本<".into()),
            ),
            ("<value><i4> 42 </i4></value>", Value::Int(42)),
            ("<value><int>+7</int></value>", Value::Int(7)),
            ("<value><int>4294967296</int></value>", Value::Int(1 << 32)),
            (
                "<value><i8>-9223372036854775808</i8></value>",
                Value::Int(i64::MIN),
            ),
            ("<value><boolean> 1 </boolean></value>", Value::Bool(true)),
            ("<value><double>1e3</double></value>", Value::Double(1000.0)),
            ("<value><double>-.5</double></value>", Value::Double(-0.5)),
            ("<value><double>7</double></value>", Value::Double(7.0)),
            (
                "<value><dateTime.iso8601> 20231114T22:13:20\n</dateTime.iso8601></value>",
                time("20231114T22:13:20"),
            ),
            (
                "<value><base64>aGk\n  h</base64></value>",
                Value::Base64(b"hi!".to_vec()),
            ),
            (
                "<value><base64>aGk=</base64></value>",
                Value::Base64(b"hi".to_vec()),
            ),
            (
                "<value><base64>aGk</base64></value>",
                Value::Base64(b"hi".to_vec()),
            ),
            ("<value><base64/></value>", Value::Base64(vec![])),
            ("<value><nil/></value>", Value::Nil),
            ("<value><nil></nil></value>", Value::Nil),
            ("<value><array/></value>", Value::Array(vec![])),
            (
                "<value><array><data/></array></value>",
                Value::Array(vec![]),
            ),
            (
                "<value><array>\n<data>\n</data>\n</array></value>",
                Value::Array(vec![]),
            ),
            (
                "<value><array><data><value/><value>x</value></data></array></value>",
                Value::Array(vec![Value::Str(String::new()), Value::Str("x".into())]),
            ),
            ("<value><struct/></value>", Value::Struct(vec![])),
            (
                "<value><struct><member><name>a</name><value/></member></struct></value>",
                Value::Struct(vec![("a".into(), Value::Str(String::new()))]),
            ),
            (
                "<value type='ignored'><int id=\"1\">3</int></value>",
                Value::Int(3),
            ),
        ];
        for (xml, want) in cases {
            let got = parse_params(&format!("<param>{xml}</param>"));
            assert_eq!(got, Ok(vec![want.clone()]), "{xml}");
        }
    }

    #[test]
    fn document_shapes() {
        let shapes: &[(&[u8], &str, usize)] = &[
            (b"<methodCall><methodName>a.b</methodName></methodCall>", "a.b", 0),
            (b"<methodCall><methodName> a.b\n</methodName><params/></methodCall>", "a.b", 0),
            (b"<methodCall><methodName>x</methodName><params></params></methodCall>", "x", 0),
            (
                b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi --><?pi x?>\n<methodCall>\n  <methodName>x</methodName>\n  <params>\n    <param><value>1</value></param>\n    <param>\n      <value><int>2</int></value>\n    </param>\n  </params>\n</methodCall>\n<!-- bye -->\n",
                "x",
                2,
            ),
        ];
        for (body, method, count) in shapes {
            let call = parse_call(body).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((call.method.as_str(), call.params.len()), (*method, *count));
        }
        let members = parse_params(
            "<param><value><struct><member><name>k</name><value>1</value></member>\
             <member><name>k</name><value>2</value></member></struct></value></param>",
        )
        .unwrap();
        assert_eq!(members[0].member("k"), Some(&Value::Str("2".into())));
        assert_eq!(members[0].member("nope"), None);
        assert_eq!(Value::Nil.member("k"), None);
    }

    fn nested(depth: usize) -> String {
        format!(
            "<param>{}<value><int>1</int></value>{}</param>",
            "<value><array><data>".repeat(depth - 1),
            "</data></array></value>".repeat(depth - 1)
        )
    }

    #[test]
    fn nesting_is_capped() {
        let mut value = parse_params(&nested(MAX_DEPTH)).unwrap().remove(0);
        let mut depth = 1;
        while let Value::Array(mut items) = value {
            value = items.remove(0);
            depth += 1;
        }
        assert_eq!((depth, value), (MAX_DEPTH, Value::Int(1)));
        assert!(parse_params(&nested(MAX_DEPTH + 1)).is_err());
        // Far deeper than any stack could recurse: refused at the cap, before recursing on.
        let err = parse_params(&nested(200_000)).unwrap_err();
        assert!(err.0.contains("deeper than 64"), "{err}");
        let structs = format!(
            "<param>{}<value/>{}</param>",
            "<value><struct><member><name>n</name>".repeat(MAX_DEPTH),
            "</member></struct></value>".repeat(MAX_DEPTH)
        );
        assert!(parse_params(&structs).is_err());
    }

    #[test]
    fn hostile_documents_are_refused() {
        let cases: &[(&str, &str)] = &[
            ("", "end of document"),
            ("not xml at all", "text"),
            ("<methodCall>", "end of document"),
            ("<methodCall><methodName>x</methodName>", "end of document"),
            ("<methodCall><methodName>x</methodName></methodcall>", "malformed XML"),
            ("<methodCall><methodName>x</wrong></methodCall>", "malformed XML"),
            ("<methodCall><methodName>x</methodName><params><param><value><int>1</int></value></params></methodCall>", "malformed XML"),
            ("<methodCall><methodName>x</methodName></methodCall></methodCall>", "malformed XML"),
            ("<methodCall><methodName>x</methodName><params><param></param></params></methodCall>", "expected <value>"),
            ("<methodCall><methodName>x</methodName><params>text</params></methodCall>", "text between"),
            ("<methodCall><methodName>x</methodName><extra/></methodCall>", "unknown element <extra>"),
            ("<methodCall><methodName><b>x</b></methodName></methodCall>", "unknown element <b>"),
            ("<methodCall><methodName>x</methodName><methodName>y</methodName></methodCall>", "unexpected <methodName>"),
            ("<methodCall><methodName>x</methodName></methodCall><methodCall/>", "after the document"),
            ("<methodCall><methodName>x</methodName></methodCall>trailing", "after the document"),
            ("<methodResponse><params/></methodResponse>", "expected <methodCall>"),
            ("<x:methodCall xmlns:x='u'><x:methodName>x</x:methodName></x:methodCall>", "unknown element"),
            // Entities: none can be declared, undeclared ones are errors, nothing is fetched.
            ("<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><methodCall><methodName>&b;</methodName></methodCall>", "DOCTYPE"),
            ("<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><methodCall><methodName>x</methodName></methodCall>", "DOCTYPE"),
            ("<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>", "DOCTYPE"),
            ("<methodCall><methodName>x</methodName></methodCall><!DOCTYPE x>", "DOCTYPE"),
            ("<methodCall><methodName>&xxe;</methodName></methodCall>", "malformed text"),
            ("<methodCall><methodName>a & b</methodName></methodCall>", "malformed text"),
            ("<methodCall><methodName>&#xD800;</methodName></methodCall>", "malformed text"),
            ("<methodCall><methodName>\u{0}x\u{0}</methodName></methodCall>", ""),
        ];
        for (body, why) in cases {
            match parse_call(body.as_bytes()) {
                Ok(call) => assert!(why.is_empty(), "accepted {body:?} as {call:?}"),
                Err(e) => assert!(e.0.contains(why), "{body:?}: {e} (want {why:?})"),
            }
        }
        let values: &[(&str, &str)] = &[
            ("<value><int>12x</int></value>", "bad <int> \"12x\""),
            ("<value><int></int></value>", "bad <int>"),
            ("<value><i4>99999999999999999999</i4></value>", "bad <int>"),
            ("<value><i8>1.5</i8></value>", "bad <i8>"),
            ("<value><boolean>2</boolean></value>", "bad <boolean>"),
            ("<value><boolean>true</boolean></value>", "bad <boolean>"),
            ("<value><double>1,5</double></value>", "bad <double>"),
            ("<value><double></double></value>", "bad <double>"),
            ("<value><base64>!!!!</base64></value>", "bad <base64>"),
            (
                "<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>",
                "bad <dateTime",
            ),
            (
                "<value><dateTime.iso8601>2023-11-14T22:13:20Z</dateTime.iso8601></value>",
                "bad <dateTime",
            ),
            (
                "<value><unknown>1</unknown></value>",
                "unknown element <unknown>",
            ),
            (
                "<value><int>1</int><int>2</int></value>",
                "expected </value>",
            ),
            ("<value><int>1</int>text</value>", "text between"),
            (
                "<value>text<int>1</int></value>",
                "unexpected <int> in <value>",
            ),
            (
                "<value><struct><value/></struct></value>",
                "unexpected <value> in <struct>",
            ),
            (
                "<value><struct><member><value/><name>a</name></member></struct></value>",
                "expected <name>",
            ),
            (
                "<value><struct><member><name>a</name></member></struct></value>",
                "expected <value>",
            ),
            (
                "<value><array><value/></array></value>",
                "expected </array>",
            ),
            (
                "<value><array><data><int>1</int></data></array></value>",
                "unexpected <int> in <data>",
            ),
            ("<value><nil>x</nil></value>", "text between"),
            ("<value><param/></value>", "<param> is not a value type"),
            (
                "<value><string><string>x</string></string></value>",
                "unexpected <string> in <string>",
            ),
        ];
        for (xml, why) in values {
            let err = parse_params(&format!("<param>{xml}</param>")).unwrap_err();
            assert!(err.0.contains(why), "{xml}: {err} (want {why:?})");
        }
        // Bodies that are not UTF-8 are refused, not mangled.
        let latin1 = b"<methodCall><methodName>caf\xE9</methodName></methodCall>";
        assert!(parse_call(latin1).is_err());
        let utf16 = "<methodCall/>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>();
        assert!(parse_call(&[&[0xFF, 0xFE][..], &utf16].concat()).is_err());
    }

    #[test]
    fn error_messages_quote_little_input() {
        let long = "9".repeat(10_000);
        let err =
            parse_params(&format!("<param><value><int>{long}</int></value></param>")).unwrap_err();
        assert!(err.0.len() < 80, "{err}");
        let err = parse_call(format!("<{}/>", "q".repeat(10_000)).as_bytes()).unwrap_err();
        assert!(err.0.len() < 80, "{err}");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any value this module can write, nested a few levels. Strings avoid the characters
    /// XML cannot carry (they are replaced, deliberately) and doubles are finite (NaN is not
    /// equal to itself; the unit tests cover it).
    fn any_value() -> impl Strategy<Value = Value> {
        let text = "[\\PC\t\n\r]{0,12}";
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
            text.prop_map(Value::Str),
            any::<f64>()
                .prop_filter("finite", |d| d.is_finite())
                .prop_map(Value::Double),
            (0u64..253_402_300_800).prop_map(|s| Value::DateTime(DateTime::from_unix(s).unwrap())),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Base64),
            Just(Value::Nil),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text, inner), 0..6).prop_map(Value::Struct),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn values_round_trip(values in prop::collection::vec(any_value(), 0..4)) {
            let mut body = String::from("<?xml version=\"1.0\"?><methodCall><methodName>m</methodName><params>");
            for value in &values {
                body.push_str("<param>");
                encode(&mut body, value);
                body.push_str("</param>");
            }
            body.push_str("</params></methodCall>");
            let call = parse_call(body.as_bytes()).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(call.params, values);
        }
    }
}
