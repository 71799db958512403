//! An XML-RPC API for the served tree, like Python's `SimpleXMLRPCServer`, with the
//! self-documenting page of `DocXMLRPCServer`. Opt-in (`--xmlrpc`): `POST /RPC2` takes a
//! `methodCall` ([`handle_call`]), `GET /RPC2` shows [`doc_page`].
//!
//! Methods (`methods.rs`): `files.list`, `files.stat`, `files.read`, and the introspection
//! methods of the XML-RPC introspection spec plus `system.multicall` (Eric Kidd's RFC).
//! Values and documents: `value.rs`; dateTime: `datetime.rs`; the page: `doc.rs`.
//!
//! Every failure is a fault with a stable code, never a panic or an HTTP error: [`FAULTS`]
//! lists them and [`FaultCode::meaning`] says what each means, for the page (the README
//! quotes it). "Not found" is one answer for every reason a name cannot be served, as the
//! HTTP side's 404 is, so faults never tell a client whether a hidden or outside file exists.
//!
//! Limits, per request (a `system.multicall` shares them): [`MAX_READ`] bytes of file
//! contents and [`MAX_ENTRIES`] listed entries. The component runs in a small linear memory
//! (64 MiB by default), and a body of [`MAX_BODY`] could otherwise ask for thousands of
//! full-size reads; a call over the budget is a "too large" fault, the others still answer.
//! Every text that quotes a limit (fault strings, method help, the page) renders it from
//! these constants.

mod datetime;
mod doc;
#[cfg(test)]
mod fixture;
mod methods;
pub(crate) mod value;

use crate::config::Config;
use crate::fs::{Fs, FsError};
use value::Value;

pub(crate) use doc::doc_page;

/// Request bodies above this are refused: with 413 by the glue, unread; as a fault here.
pub(crate) const MAX_BODY: u64 = 1 << 20;

/// Most bytes of file contents one request returns (`files.read`, summed over a multicall).
pub(crate) const MAX_READ: u64 = 16 << 20;

/// Most directory entries one request lists (`files.list`, summed over a multicall). A
/// listing entry costs about 600 bytes on its way out, so this keeps a response under
/// 20 MiB; a directory with more entries is "too large".
pub(crate) const MAX_ENTRIES: usize = 1 << 15;

/// The stable fault codes (see the module note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultCode {
    NotFound = 1,
    IsADirectory = 2,
    PermissionDenied = 3,
    BadArguments = 4,
    TooLarge = 5,
    MalformedRequest = 6,
    UnknownMethod = 7,
    NotADirectory = 8,
    IoError = 9,
}

/// Every fault code, in order: the table the documentation page renders.
pub(crate) const FAULTS: [FaultCode; 9] = [
    FaultCode::NotFound,
    FaultCode::IsADirectory,
    FaultCode::PermissionDenied,
    FaultCode::BadArguments,
    FaultCode::TooLarge,
    FaultCode::MalformedRequest,
    FaultCode::UnknownMethod,
    FaultCode::NotADirectory,
    FaultCode::IoError,
];

/// A byte limit as people read it: `16 MiB`, or a plain count when not whole mebibytes.
pub(crate) fn size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

impl FaultCode {
    /// The `faultCode` a client sees.
    pub(crate) const fn code(self) -> i32 {
        self as i32
    }

    /// What the code means, for the documentation (limits rendered from their constants).
    pub(crate) fn meaning(self) -> String {
        match self {
            FaultCode::NotFound => {
                "not found: missing, a dot-file, a special file, or outside the served directory"
            }
            FaultCode::IsADirectory => "is a directory",
            FaultCode::PermissionDenied => "permission denied",
            FaultCode::BadArguments => "bad arguments: wrong number or types",
            FaultCode::TooLarge => {
                return format!(
                    "too large: over {} of file contents or {MAX_ENTRIES} listed entries in one \
                     request, or a body over {}",
                    size(MAX_READ),
                    size(MAX_BODY)
                )
            }
            FaultCode::MalformedRequest => {
                "malformed request: not a methodCall document (a DOCTYPE is refused)"
            }
            FaultCode::UnknownMethod => "unknown method",
            FaultCode::NotADirectory => "not a directory",
            FaultCode::IoError => "I/O error reading the served directory",
        }
        .to_owned()
    }
}

/// A failed call: the `faultCode` and `faultString` of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) code: FaultCode,
    pub(crate) message: String,
}

impl Fault {
    pub(crate) fn new(code: FaultCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The one answer for every name that cannot be served.
    pub(crate) fn not_found() -> Fault {
        Fault::new(FaultCode::NotFound, "not found")
    }

    /// The `{faultCode, faultString}` struct, as a response and a multicall item carry it.
    pub(crate) fn to_value(&self) -> Value {
        Value::Struct(vec![
            ("faultCode".into(), Value::Int(self.code.code().into())),
            ("faultString".into(), Value::Str(self.message.clone())),
        ])
    }
}

impl From<FsError> for Fault {
    fn from(error: FsError) -> Fault {
        match error {
            FsError::NotFound => Fault::not_found(),
            FsError::Forbidden => Fault::new(FaultCode::PermissionDenied, "permission denied"),
            FsError::Io => Fault::new(FaultCode::IoError, "I/O error"),
        }
    }
}

/// Answers one request body with a complete `methodResponse` document.
pub(crate) fn handle_call(body: &[u8], fs: &dyn Fs, config: &Config) -> String {
    let result = if body.len() as u64 > MAX_BODY {
        Err(Fault::new(
            FaultCode::TooLarge,
            format!("request body over {}", size(MAX_BODY)),
        ))
    } else {
        match value::parse_call(body) {
            Ok(call) => methods::dispatch(
                &methods::Context::new(fs, config),
                &call.method,
                &call.params,
            ),
            Err(error) => Err(Fault::new(
                FaultCode::MalformedRequest,
                format!("bad request: {error}"),
            )),
        }
    };
    response(&result)
}

fn response(result: &Result<Value, Fault>) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>");
    match result {
        Ok(value) => {
            out.push_str("<params><param>");
            value::encode(&mut out, value);
            out.push_str("</param></params>");
        }
        Err(fault) => {
            out.push_str("<fault>");
            value::encode(&mut out, &fault.to_value());
            out.push_str("</fault>");
        }
    }
    out.push_str("</methodResponse>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::fixture::fixture;
    use super::value::parse_response;
    use super::*;
    use crate::fs::{DirEntry, Metadata};
    use crate::memfs::{pattern, MemFs};
    use crate::path::SafePath;

    fn answer(body: &[u8]) -> Result<Value, (i64, String)> {
        let xml = handle_call(body, &fixture(), &Config::default());
        assert!(
            xml.starts_with("<?xml version=\"1.0\"?>\n<methodResponse>"),
            "{xml}"
        );
        parse_response(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"))
    }

    fn call(method: &str, params: &str) -> Vec<u8> {
        format!("<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params}</params>\n</methodCall>\n").into_bytes()
    }

    #[test]
    fn fault_table_is_stable() {
        let codes: Vec<i32> = FAULTS.iter().map(|f| f.code()).collect();
        assert_eq!(codes, (1..=9).collect::<Vec<i32>>());
        for fault in FAULTS {
            assert!(!fault.meaning().is_empty());
        }
        let too_large = FaultCode::TooLarge.meaning();
        assert_eq!(
            too_large,
            "too large: over 16 MiB of file contents or 32768 listed entries in one request, \
             or a body over 1 MiB"
        );
        assert_eq!(
            (size(MAX_READ), size(MAX_BODY), size(1000)),
            ("16 MiB".into(), "1 MiB".into(), "1000 bytes".into())
        );
    }

    #[test]
    fn whole_documents() {
        let body = call(
            "files.read",
            "<param><value><string>docs/a.txt</string></value></param>",
        );
        assert_eq!(
            answer(&body),
            Ok(Value::Base64(b"hello <&> world\n".to_vec()))
        );
        let fs = fixture();
        let xml = handle_call(&body, &fs, &Config::default());
        assert_eq!(
            xml,
            "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><base64>aGVsbG8gPCY+IHdvcmxkCg==</base64></value></param></params></methodResponse>\n"
        );
        let fault = handle_call(b"<nope", &fs, &Config::default());
        assert!(
            fault.starts_with("<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>6</int></value></member><member><name>faultString</name><value><string>bad request: "),
            "{fault}"
        );
    }

    #[test]
    fn contents_come_from_fs_read() {
        // Past 4 GiB, as a document: offsets travel as whole doubles, bytes as base64.
        let got = answer(&call(
            "files.read",
            "<param><value>huge.bin</value></param><param><value><double>4294967296.0</double></value></param><param><value><int>3</int></value></param>",
        ));
        assert_eq!(got, Ok(Value::Base64(pattern(1 << 32, 3))));
    }

    #[test]
    fn malformed_bodies_are_fault_6() {
        let deep = format!(
            "<methodCall><methodName>files.list</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(1000),
            "</data></array></value>".repeat(1000)
        );
        let bodies: &[&[u8]] = &[
            b"",
            b"\xff\xfe\x00",
            b"<methodCall><methodName>files.list",
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>&e;</methodName></methodCall>",
            b"<!DOCTYPE a [<!ENTITY a \"xxxxxxxxxxxxxxxx\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><methodCall><methodName>&c;</methodName></methodCall>",
            b"<methodCall><methodName>system.listMethods</methodName></methodCall><!-- --><x/>",
            b"<methodResponse><params/></methodResponse>",
            deep.as_bytes(),
        ];
        for body in bodies {
            match answer(body) {
                Err((6, text)) => assert!(text.starts_with("bad request: "), "{text}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
        let doctype = answer(b"<!DOCTYPE methodCall><methodCall><methodName>system.listMethods</methodName></methodCall>");
        assert_eq!(
            doctype,
            Err((6, "bad request: DOCTYPE is not allowed".to_owned()))
        );
    }

    #[test]
    fn oversized_bodies_are_fault_5() {
        let mut body = call("system.listMethods", "");
        body.resize(MAX_BODY as usize + 1, b' ');
        assert!(matches!(answer(&body), Err((5, _))));
        body.truncate(MAX_BODY as usize);
        assert!(matches!(answer(&body), Ok(Value::Array(_))));
    }

    #[test]
    fn fault_strings_are_escaped() {
        let got = answer(&call("<&>", ""));
        assert!(matches!(got, Err((6, _))), "{got:?}");
        let got = answer(&call("no.such&amp;&lt;method&gt;", ""));
        assert_eq!(
            got,
            Err((7, "unknown method \"no.such&<method>\"".to_owned()))
        );
    }

    #[test]
    fn a_filesystem_that_oversupplies_is_cut_to_the_length() {
        /// The fixture, but every read hands out 100 bytes whatever was asked.
        struct Greedy(MemFs);
        impl Fs for Greedy {
            fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
                self.0.stat(path)
            }
            fn read_dir(
                &self,
                path: &SafePath,
                each: &mut dyn FnMut(DirEntry),
            ) -> Result<(), FsError> {
                self.0.read_dir(path, each)
            }
            fn read(&self, _: &SafePath, _: u64, _: u64) -> Result<Vec<u8>, FsError> {
                Ok(vec![b'x'; 100])
            }
        }
        let xml = handle_call(
            &call(
                "files.read",
                "<param><value>docs/a.txt</value></param><param><value><int>0</int></value></param><param><value><int>3</int></value></param>",
            ),
            &Greedy(fixture()),
            &Config::default(),
        );
        assert_eq!(
            parse_response(xml.as_bytes()).unwrap(),
            Ok(Value::Base64(b"xxx".to_vec()))
        );
    }
}

#[cfg(test)]
mod properties {
    use super::fixture::fixture;
    use super::value::{encode, parse_response, Value};
    use super::*;
    use proptest::prelude::*;

    /// Pieces of method calls, shuffled: the answer is always a well-formed response.
    fn scrambled_call() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just("<methodCall>".to_owned()),
            Just("</methodCall>".to_owned()),
            Just("<methodName>files.read</methodName>".to_owned()),
            Just("<methodName>system.multicall</methodName>".to_owned()),
            Just("<params>".to_owned()),
            Just("</params>".to_owned()),
            Just("<param>".to_owned()),
            Just("</param>".to_owned()),
            Just("<value>".to_owned()),
            Just("</value>".to_owned()),
            Just("<array><data>".to_owned()),
            Just("</data></array>".to_owned()),
            Just("<struct><member><name>methodName</name>".to_owned()),
            Just("</member></struct>".to_owned()),
            Just("<int>-1</int>".to_owned()),
            Just("<i8>99999999999</i8>".to_owned()),
            Just("<double>1e300</double>".to_owned()),
            Just("<string>../..</string>".to_owned()),
            Just("docs/a.txt".to_owned()),
            Just("<nil/>".to_owned()),
            Just("<!DOCTYPE x>".to_owned()),
            Just("&amp;".to_owned()),
            Just("&".to_owned()),
            Just("<".to_owned()),
            "\\PC{0,4}",
        ];
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_bytes_get_a_response(body in prop::collection::vec(any::<u8>(), 0..256)) {
            let xml = handle_call(&body, &fixture(), &Config::default());
            prop_assert!(parse_response(xml.as_bytes()).is_ok(), "{}", xml);
        }

        #[test]
        fn scrambled_calls_get_a_response(body in scrambled_call()) {
            let xml = handle_call(&body, &fixture(), &Config::default());
            prop_assert!(parse_response(xml.as_bytes()).is_ok(), "{}", xml);
        }

        /// Whatever a multicall asks, each item answers in the shape Python's MultiCall
        /// iterates: a one-element array or a fault struct.
        #[test]
        fn multicall_items_keep_their_shape(
            names in prop::collection::vec(prop_oneof![
                Just("files.read"), Just("files.stat"), Just("files.list"),
                Just("system.multicall"), Just("nope"), Just("system.methodHelp"),
            ], 0..8),
            paths in prop::collection::vec("[./a-z%\\\\]{0,12}", 8),
        ) {
            let calls: Vec<Value> = names.iter().zip(&paths).map(|(name, path)| {
                Value::Struct(vec![
                    ("methodName".into(), Value::Str((*name).into())),
                    ("params".into(), Value::Array(vec![Value::Str(path.clone())])),
                ])
            }).collect();
            let mut body = String::from("<methodCall><methodName>system.multicall</methodName><params><param>");
            encode(&mut body, &Value::Array(calls));
            body.push_str("</param></params></methodCall>");
            let xml = handle_call(body.as_bytes(), &fixture(), &Config::default());
            let Ok(Ok(Value::Array(items))) = parse_response(xml.as_bytes()) else {
                return Err(TestCaseError::fail(xml));
            };
            prop_assert_eq!(items.len(), names.len());
            for item in items {
                let ok = matches!(&item, Value::Array(one) if one.len() == 1)
                    || matches!((item.member("faultCode"), item.member("faultString")),
                        (Some(Value::Int(_)), Some(Value::Str(_))));
                prop_assert!(ok, "{:?}", item);
            }
        }
    }
}
