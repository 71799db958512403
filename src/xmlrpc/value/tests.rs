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
    let mut params =
        parse_params(&format!("<param>{xml}</param>\n")).unwrap_or_else(|e| panic!("{xml}: {e}"));
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
    // quick-xml's own messages quote whole names and entities: clipped as well.
    let long = "q".repeat(10_000);
    for body in [
        format!("<methodCall><methodName>x</{long}></methodCall>"),
        format!("<methodCall><methodName>&{long};</methodName></methodCall>"),
    ] {
        let err = parse_call(body.as_bytes()).unwrap_err();
        assert!(err.0.len() < 130, "{err}");
    }
}

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

    /// Text that trips parsers: numbers at and past every integer width, odd doubles,
    /// dates, base64, entities declared or not, character references, CDATA, comments.
    fn awkward_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just(" \n".to_owned()),
            "[-+0-9.eE ]{1,24}",
            "[01 ]{1,3}",
            "[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}",
            "[A-Za-z0-9+/= \n]{0,12}",
            prop::sample::select(
                &[
                    "9223372036854775807",
                    "9223372036854775808",
                    "-9223372036854775808",
                    "2147483648",
                    "1e400",
                    "nan",
                    "-inf",
                    "&amp;&lt;&#13;&#x65E5;",
                    "&e;",
                    "&#xD800;",
                    "&#0;",
                    "<![CDATA[<&>]]>",
                    "a<!-- c -->b",
                    "<?pi x?>",
                ][..]
            )
            .prop_map(str::to_owned),
            "\\PC{0,6}",
        ]
    }

    /// Noise to splice into a document: markup the grammar does not allow there.
    fn noise() -> impl Strategy<Value = String> {
        prop_oneof![
            awkward_text(),
            prop::sample::select(
                &[
                    "<x/>",
                    "<value/>",
                    "</value>",
                    "<int>1</int>",
                    "<data>",
                    "</struct>",
                    "<nil/>",
                    "<member><name>n</name><value/></member>",
                    "<!DOCTYPE x [<!ENTITY e \"&e;&e;\">]>",
                    "<x:value xmlns:x='u'/>",
                    "<value a='1'>",
                    "<",
                ][..]
            )
            .prop_map(str::to_owned),
        ]
    }

    /// `text` with `piece` spliced in at a character boundary chosen by `at`.
    fn splice(text: &str, piece: &str, at: prop::sample::Index) -> String {
        let cuts: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let cut = cuts[at.index(cuts.len())];
        format!("{}{piece}{}", &text[..cut], &text[cut..])
    }

    /// Values as the grammar builds them, some with noise spliced in, some nested close to
    /// the depth cap on either side.
    fn value_xml() -> impl Strategy<Value = String> {
        let scalar = prop::sample::select(
            &[
                "int",
                "i4",
                "i8",
                "boolean",
                "string",
                "double",
                "dateTime.iso8601",
                "base64",
                "nil",
            ][..],
        );
        let leaf = prop_oneof![
            (scalar, awkward_text()).prop_map(|(t, x)| format!("<value><{t}>{x}</{t}></value>")),
            awkward_text().prop_map(|x| format!("<value>{x}</value>")),
            Just("<value/>".to_owned()),
            Just("<value><nil/></value>".to_owned()),
        ];
        let tree = leaf.prop_recursive(6, 48, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!(
                    "<value><array><data>{}</data></array></value>",
                    v.concat()
                )),
                prop::collection::vec((awkward_text(), inner.clone()), 0..4).prop_map(|m| {
                    let members: String = m
                        .iter()
                        .map(|(n, v)| format!("<member><name>{n}</name>{v}</member>"))
                        .collect();
                    format!("<value><struct>{members}</struct></value>")
                }),
                (inner, noise(), any::<prop::sample::Index>())
                    .prop_map(|(v, n, at)| splice(&v, &n, at)),
            ]
        });
        prop_oneof![
            8 => tree.clone(),
            1 => (tree, MAX_DEPTH - 2..MAX_DEPTH + 2).prop_map(|(v, n)| {
                format!("{}{v}{}", "<value><array><data>".repeat(n), "</data></array></value>".repeat(n))
            }),
        ]
    }

    /// Method calls built from [`value_xml`], a quarter with noise spliced in anywhere.
    fn xmlish() -> impl Strategy<Value = String> {
        let call = (prop::collection::vec(value_xml(), 0..4), "[a-z.]{0,12}").prop_map(|(values, name)| {
            let params: String = values.iter().map(|v| format!("<param>{v}</param>")).collect();
            format!("<?xml version=\"1.0\"?><methodCall><methodName>{name}</methodName><params>{params}</params></methodCall>")
        }).boxed();
        prop_oneof![
            3 => call.clone(),
            1 => (call, noise(), any::<prop::sample::Index>()).prop_map(|(c, n, at)| splice(&c, &n, at)),
        ]
    }

    /// A call document holding `params` as this module writes them.
    fn written(params: &[Value]) -> String {
        let mut out = String::from("<methodCall><methodName>m</methodName><params>");
        for value in params {
            out.push_str("<param>");
            encode(&mut out, value);
            out.push_str("</param>");
        }
        out.push_str("</params></methodCall>");
        out
    }

    /// Cases per property, raised for long runs: `PROPTEST_CASES=200000 cargo test ...`.
    fn cases(default: u32) -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok());
        ProptestConfig::with_cases(cases.unwrap_or(default))
    }

    proptest! {
        #![proptest_config(cases(1024))]

        /// Whatever arrives, `parse_call` answers (a panic would be a 500); every call it
        /// accepts reads back the same after writing, and is refused once a DOCTYPE (which
        /// could declare entities) stands before its root.
        #[test]
        fn any_markup_parses_or_is_refused(doc in xmlish()) {
            match parse_call(doc.as_bytes()) {
                Ok(call) => {
                    let declared = doc.replacen(
                        "<methodCall",
                        "<!DOCTYPE methodCall [<!ENTITY e \"x\">]><methodCall",
                        1,
                    );
                    let refused = parse_call(declared.as_bytes()).map(|_| ()).map_err(|e| e.0);
                    prop_assert_eq!(refused, Err("DOCTYPE is not allowed".to_owned()));
                    let body = written(&call.params);
                    let again = parse_call(body.as_bytes())
                        .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
                    prop_assert_eq!(written(&again.params), body);
                }
                Err(e) => prop_assert!(!e.0.is_empty() && e.0.len() < 200, "{}", e),
            }
        }

        #[test]
        fn any_bytes_parse_or_are_refused(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_call(&body);
        }
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
