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
        "too large: over 16 MiB of file contents or 32768 listed entries in one request"
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
fn a_body_of_the_largest_size_is_answered() {
    let mut body = call("system.listMethods", "");
    body.resize(MAX_BODY as usize, b' ');
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
            each: &mut dyn FnMut(DirEntry) -> std::ops::ControlFlow<()>,
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

mod properties {
    use super::super::value::encode;
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
