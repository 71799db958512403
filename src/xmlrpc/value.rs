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
//!
//! Why not the `dxr` crate (0.9, evaluated 2026-11-30 with the same `Value`, the same writer
//! and a 20-line quick-xml pre-scan for DOCTYPE and depth in front of `MethodCall::from_xml`):
//! - It would save about 310 lines here (564 -> 250) and `DateTime::parse`, but the release
//!   component grew from 601,887 to 792,838 bytes (+32%: serde, winnow, thiserror, a second
//!   base64 and quick-xml 0.42).
//! - 18 of 72 probe documents answer differently: it refuses `<int>` past 2^31 - 1 (what a
//!   64-bit client sends as an offset), `<boolean> 1 </boolean>`, unpadded base64, attributes
//!   and empty member names (which this writer emits, so its own answers did not read back);
//!   it accepts unknown elements, a second root and text after the document; it reads
//!   `<value>\n</value>` as `""`, merges members of the same name and stops nesting at 42.
//! - Every error becomes one message: its error holds the whole input, so it cannot be quoted.
//!   6 of the 37 unit tests of this API failed on it.
//! - Neither panicked under libFuzzer (300 s each, ASan, same seeds): 3.6 M inputs here, 4.2 M
//!   through dxr; with a read -> write -> read check, dxr failed after 1.6 M (merged
//!   members), this parser held. So bad input is a fault, never a 500, either way; the
//!   strict grammar, the messages and the size favour the hand-written reader.

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
                Err(e) => return fail(format!("malformed XML: {}", clip(&e.to_string(), 100))),
            };
            return Ok(match event {
                Event::Start(e) => Token::Open(known(e.name().as_ref())?),
                Event::End(e) => Token::Close(known(e.name().as_ref())?),
                Event::Text(t) => match t.unescape() {
                    Ok(text) => Token::Text(text.into_owned()),
                    Err(e) => {
                        return fail(format!("malformed text: {}", clip(&e.to_string(), 100)))
                    }
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
            clip(&String::from_utf8_lossy(name), 32)
        )),
    }
}

/// Client input quoted in an error message: at most 32 characters of it.
fn excerpt(text: &str) -> String {
    format!("{:?}", clip(text.trim(), 32))
}

/// At most `max` characters of `text`. quick-xml's own messages quote names and entities
/// whole, so they are clipped too: a fault string never echoes much of a 1 MiB body.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
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
mod tests;
