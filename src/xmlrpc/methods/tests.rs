use super::super::fixture::{fixture, ODD_NAMES};
use super::*;
use crate::fs::Timestamp;
use crate::memfs::{pattern, MemFs};
use FaultCode::*;

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn run_with(fs: &MemFs, config: &Config, method: &str, params: &[Value]) -> Outcome {
    dispatch(&Context::new(fs, config), method, params)
}

fn run(method: &str, params: &[Value]) -> Outcome {
    run_with(&fixture(), &Config::default(), method, params)
}

fn code(outcome: Outcome) -> FaultCode {
    match outcome {
        Err(fault) => fault.code,
        Ok(value) => panic!("a fault expected, got {value:?}"),
    }
}

fn entry(name: &str, kind: &str, size: i64) -> Value {
    Value::Struct(vec![
        ("name".into(), s(name)),
        ("type".into(), s(kind)),
        ("size".into(), Value::Int(size)),
        (
            "modified".into(),
            Value::DateTime(DateTime::parse("20231114T22:13:20").unwrap()),
        ),
    ])
}

fn names(listing: Outcome) -> Vec<String> {
    let Ok(Value::Array(entries)) = listing else {
        panic!("{listing:?}")
    };
    entries
        .iter()
        .map(|e| match e.member("name") {
            Some(Value::Str(name)) => name.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_table_is_consistent() {
    let listed: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(listed, sorted, "sorted and unique");
    for m in METHODS {
        let longest = m.signatures.iter().map(|s| s.len()).max().unwrap();
        assert_eq!(m.params.len(), longest - 1, "{}", m.name);
        for sig in m.signatures {
            assert_eq!(
                *sig,
                &m.signatures.iter().max_by_key(|s| s.len()).unwrap()[..sig.len()],
                "{}: signatures are prefixes of the longest",
                m.name
            );
        }
        assert!(m.help().ends_with('.'), "{}", m.name);
        assert!(
            !m.help().contains("MAX_"),
            "{}: a limit left unrendered",
            m.name
        );
    }
    let usages: Vec<String> = METHODS.iter().map(Method::usage).collect();
    assert_eq!(
        usages,
        [
            "files.list(string path) → array",
            "files.read(string path[, int offset[, int length]]) → base64",
            "files.stat(string path) → struct",
            "system.listMethods() → array",
            "system.methodHelp(string name) → string",
            "system.methodSignature(string name) → array",
            "system.multicall(array calls) → array",
        ]
    );
}

#[test]
fn files_list() {
    let root = run("files.list", &[s("/")]);
    let mut want: Vec<String> = vec!["docs", "locked"]
        .into_iter()
        .map(String::from)
        .collect();
    let mut files: Vec<String> = [
        "big.bin",
        "broken",
        "empty.txt",
        "huge.bin",
        "unreadable.txt",
    ]
    .into_iter()
    .chain(ODD_NAMES)
    .map(String::from)
    .collect();
    files.sort_by_key(|n| n.to_lowercase());
    want.extend(files);
    assert_eq!(names(root), want, "no .env, no fifo, directories first");
    assert_eq!(
        run("files.list", &[s("docs")]),
        Ok(Value::Array(vec![
            entry("sub", "dir", 0),
            entry("a.txt", "file", 16),
            entry("link.txt", "symlink", 6),
        ]))
    );
    for same in [
        "docs",
        "/docs",
        "docs/",
        "/docs/",
        "./docs",
        "docs/sub/..",
        "//docs//",
    ] {
        assert_eq!(
            names(run("files.list", &[s(same)])),
            ["sub", "a.txt", "link.txt"],
            "{same}"
        );
    }
    assert_eq!(
        names(run("files.list", &[s("")])).len(),
        2 + 5 + ODD_NAMES.len()
    );
    let hidden = Config {
        visibility: crate::visibility::Visibility::new(true),
        ..Config::default()
    };
    let fs = fixture();
    assert_eq!(
        names(run_with(&fs, &hidden, "files.list", &[s("docs")])),
        ["sub", ".secret", "a.txt", "link.txt"]
    );
    assert!(names(run_with(&fs, &hidden, "files.list", &[s("/")])).contains(&".env".to_string()));
}

#[test]
fn files_stat() {
    let cases: &[(&str, Result<Value, FaultCode>)] = &[
        ("docs/a.txt", Ok(entry("a.txt", "file", 16))),
        ("/docs/a.txt", Ok(entry("a.txt", "file", 16))),
        ("docs/link.txt", Ok(entry("link.txt", "file", 6))),
        ("docs", Ok(entry("docs", "dir", 0))),
        ("docs/", Ok(entry("docs", "dir", 0))),
        ("/", Ok(entry("/", "dir", 0))),
        ("", Ok(entry("/", "dir", 0))),
        ("huge.bin", Ok(entry("huge.bin", "file", 5 << 30))),
        ("docs/a.txt/", Err(NotADirectory)),
        ("docs/a.txt/.", Err(NotADirectory)),
        ("missing", Err(NotFound)),
        // Lexical, as for URLs: `missing/..` is gone before anything is looked up.
        ("docs/missing/..", Ok(entry("docs", "dir", 0))),
        ("fifo", Err(NotFound)),
        (".env", Err(NotFound)),
        ("docs/.secret", Err(NotFound)),
        ("locked", Err(PermissionDenied)),
        ("broken", Err(IoError)),
    ];
    for (path, want) in cases {
        let got = run("files.stat", &[s(path)]).map_err(|f| f.code);
        assert_eq!(&got, want, "{path:?}");
    }
}

#[test]
fn files_read() {
    let a = b"hello <&> world\n";
    let int = Value::Int;
    type Case<'a> = (&'a [Value], Result<Vec<u8>, FaultCode>);
    let cases: &[Case] = &[
        (&[s("docs/a.txt")], Ok(a.to_vec())),
        (&[s("/docs/a.txt"), int(6)], Ok(a[6..].to_vec())),
        (&[s("docs/a.txt"), int(6), int(3)], Ok(b"<&>".to_vec())),
        (
            &[s("docs/a.txt"), Value::Nil, int(5)],
            Ok(b"hello".to_vec()),
        ),
        (&[s("docs/a.txt"), int(0), int(0)], Ok(vec![])),
        (&[s("docs/a.txt"), int(16)], Ok(vec![])),
        (&[s("docs/a.txt"), int(1000), int(10)], Ok(vec![])),
        (&[s("docs/a.txt"), int(i64::MAX), int(10)], Ok(vec![])),
        (&[s("docs/a.txt"), int(10), int(1000)], Ok(a[10..].to_vec())),
        (
            &[s("docs/a.txt"), Value::Double(6.0), Value::Double(3.0)],
            Ok(b"<&>".to_vec()),
        ),
        (&[s("empty.txt")], Ok(vec![])),
        (&[s("docs/link.txt")], Ok(b"linked".to_vec())),
        (
            &[s("big.bin"), int(1 << 20), int(5)],
            Ok(pattern(1 << 20, 5)),
        ),
        (
            &[s("huge.bin"), int((5 << 30) - 4)],
            Ok(pattern((5 << 30) - 4, 4)),
        ),
        (
            &[s("huge.bin"), Value::Double(4294967296.0), int(3)],
            Ok(pattern(1 << 32, 3)),
        ),
        (
            &[s("big.bin"), int(0), int(MAX_READ as i64)],
            Ok(pattern(0, MAX_READ)),
        ),
        (
            &[s("big.bin"), int((40 << 20) - MAX_READ as i64)],
            Ok(pattern((40 << 20) - MAX_READ, MAX_READ)),
        ),
        (&[s("big.bin")], Err(TooLarge)),
        (
            &[s("big.bin"), int(0), int(MAX_READ as i64 + 1)],
            Err(TooLarge),
        ),
        (
            &[s("docs/a.txt"), int(0), int(MAX_READ as i64 + 1)],
            Err(TooLarge),
        ),
        (&[s("docs")], Err(IsADirectory)),
        (&[s("/")], Err(IsADirectory)),
        (&[s("docs/a.txt/")], Err(NotADirectory)),
        (&[s("fifo")], Err(NotFound)),
        (&[s("missing")], Err(NotFound)),
        (&[s(".env")], Err(NotFound)),
        (&[s("docs/.secret")], Err(NotFound)),
        (&[s("locked")], Err(PermissionDenied)),
        (&[s("unreadable.txt")], Err(IoError)),
        (&[s("broken")], Err(IoError)),
        (&[], Err(BadArguments)),
        (
            &[s("docs/a.txt"), int(0), int(1), int(2)],
            Err(BadArguments),
        ),
        (&[int(1)], Err(BadArguments)),
        (&[Value::Base64(b"docs/a.txt".to_vec())], Err(BadArguments)),
        (&[s("docs/a.txt"), int(-1)], Err(BadArguments)),
        (&[s("docs/a.txt"), int(0), int(-1)], Err(BadArguments)),
        (&[s("docs/a.txt"), s("6")], Err(BadArguments)),
        (&[s("docs/a.txt"), Value::Double(1.5)], Err(BadArguments)),
        (&[s("docs/a.txt"), Value::Double(-1.0)], Err(BadArguments)),
        (
            &[s("docs/a.txt"), Value::Double(f64::NAN)],
            Err(BadArguments),
        ),
        (
            &[s("docs/a.txt"), Value::Double(f64::INFINITY)],
            Err(BadArguments),
        ),
        (&[s("docs/a.txt"), Value::Double(1e300)], Err(BadArguments)),
        (&[s("docs/a.txt"), Value::Bool(true)], Err(BadArguments)),
    ];
    for (params, want) in cases {
        let got = match run("files.read", params) {
            Ok(Value::Base64(bytes)) => Ok(bytes),
            Ok(other) => panic!("{other:?}"),
            Err(fault) => Err(fault.code),
        };
        // Length and head first, so a mismatch does not print 16 MiB of bytes.
        let brief = |r: &Result<Vec<u8>, FaultCode>| {
            r.clone()
                .map(|b| (b.len(), b.into_iter().take(20).collect::<Vec<u8>>()))
        };
        assert_eq!(brief(&got), brief(want), "{params:?}");
        assert_eq!(&got, want, "{params:?}");
    }
}

#[test]
fn traversal_and_hostile_paths_are_not_found() {
    let attacks = [
        "..",
        "../",
        "/..",
        "../.env",
        "../../etc/passwd",
        "/../../etc/passwd",
        "docs/../../etc/passwd",
        "docs/sub/../../../x",
        "./../x",
        "..\\..\\etc\\passwd",
        "docs\\a.txt",
        "a\0b",
        "docs/a.txt\0.png",
        "%2e%2e/%2e%2e/etc/passwd",
        "docs/%2e%2e/.env",
        "docs%2fa.txt",
        "docs/a.txt%00",
        "..%2f.env",
        "docs/a.txt?x=1",
        "docs/a.txt#top",
        "docs/../.env",
        ".env/",
        "./.env",
        "docs/sub/../.secret",
        ".git/config",
        "file:///etc/passwd",
        "C:\\Windows\\win.ini",
        "~/.ssh/id_rsa",
    ];
    for path in attacks {
        for method in ["files.read", "files.stat", "files.list"] {
            assert_eq!(code(run(method, &[s(path)])), NotFound, "{method} {path:?}");
        }
    }
}

#[test]
fn odd_names_are_literal() {
    for name in ODD_NAMES {
        assert_eq!(
            run("files.read", &[s(name)]),
            Ok(Value::Base64(name.as_bytes().to_vec())),
            "{name:?}"
        );
        assert_eq!(
            run("files.stat", &[s(&format!("/{name}"))]).map(|v| v.member("name").cloned()),
            Ok(Some(s(name)))
        );
    }
    // Decoding is for URLs: `%61.txt` is not `a.txt`.
    assert_eq!(code(run("files.read", &[s("docs/%61.txt")])), NotFound);
}

#[test]
fn modified_times() {
    let cases: &[(Option<Timestamp>, Value)] = &[
        (None, Value::Nil),
        (
            Some(Timestamp {
                seconds: 0,
                nanoseconds: 999_999_999,
            }),
            Value::DateTime(DateTime::parse("19700101T00:00:00").unwrap()),
        ),
        (
            Some(Timestamp {
                seconds: 253_402_300_799,
                nanoseconds: 0,
            }),
            Value::DateTime(DateTime::parse("99991231T23:59:59").unwrap()),
        ),
        (
            Some(Timestamp {
                seconds: 253_402_300_800,
                nanoseconds: 0,
            }),
            Value::Nil,
        ),
        (
            Some(Timestamp {
                seconds: u64::MAX,
                nanoseconds: u32::MAX,
            }),
            Value::Nil,
        ),
    ];
    for (mtime, want) in cases {
        let fs = fixture().modified("docs/a.txt", *mtime);
        let stat = run_with(&fs, &Config::default(), "files.stat", &[s("docs/a.txt")]);
        assert_eq!(stat.unwrap().member("modified"), Some(want), "{mtime:?}");
        let Ok(Value::Array(list)) = run_with(&fs, &Config::default(), "files.list", &[s("docs")])
        else {
            panic!()
        };
        assert_eq!(list[1].member("modified"), Some(want), "{mtime:?}");
    }
}

#[test]
fn argument_counts_and_types() {
    let cases: &[(&str, &[Value], &str)] = &[
        ("files.list", &[], "files.list takes 1 argument, got 0"),
        (
            "files.list",
            &[s("/"), s("/")],
            "files.list takes 1 argument, got 2",
        ),
        (
            "files.read",
            &[],
            "files.read takes 1 to 3 arguments, got 0",
        ),
        (
            "files.stat",
            &[Value::Nil],
            "path must be a string, not nil",
        ),
        (
            "files.list",
            &[Value::Array(vec![])],
            "path must be a string, not array",
        ),
        (
            "files.read",
            &[s("a"), s("b")],
            "offset must be a non-negative integer, not string",
        ),
        (
            "files.read",
            &[s("a"), Value::Int(-3)],
            "offset must be a non-negative integer, not int -3",
        ),
        (
            "system.listMethods",
            &[s("x")],
            "system.listMethods takes 0 arguments, got 1",
        ),
        (
            "system.methodHelp",
            &[Value::Int(1)],
            "name must be a string, not int",
        ),
        ("system.multicall", &[s("x")], "calls must be an array"),
        (
            "system.multicall",
            &[],
            "system.multicall takes 1 argument, got 0",
        ),
    ];
    for (method, params, want) in cases {
        let fault = run(method, params).unwrap_err();
        assert_eq!(fault.code, BadArguments, "{method} {params:?}");
        assert!(
            fault.message.starts_with(want),
            "{method}: {:?}",
            fault.message
        );
    }
}

#[test]
fn introspection() {
    assert_eq!(
        run("system.listMethods", &[]),
        Ok(Value::Array(METHODS.iter().map(|m| s(m.name)).collect()))
    );
    for m in METHODS {
        assert_eq!(
            run("system.methodHelp", &[s(m.name)]),
            Ok(Value::Str(m.help()))
        );
    }
    assert!(
        matches!(run("system.methodHelp", &[s("files.read")]), Ok(Value::Str(h)) if h.contains("16 MiB"))
    );
    let sig = |v: &[&str]| Value::Array(v.iter().map(|t| s(t)).collect());
    let cases: &[(&str, Value)] = &[
        ("files.stat", Value::Array(vec![sig(&["struct", "string"])])),
        ("files.list", Value::Array(vec![sig(&["array", "string"])])),
        (
            "files.read",
            Value::Array(vec![
                sig(&["base64", "string"]),
                sig(&["base64", "string", "int"]),
                sig(&["base64", "string", "int", "int"]),
            ]),
        ),
        ("system.listMethods", Value::Array(vec![sig(&["array"])])),
        (
            "system.multicall",
            Value::Array(vec![sig(&["array", "array"])]),
        ),
    ];
    for (name, want) in cases {
        assert_eq!(
            &run("system.methodSignature", &[s(name)]).unwrap(),
            want,
            "{name}"
        );
    }
    for method in ["system.methodHelp", "system.methodSignature"] {
        assert_eq!(code(run(method, &[s("no.such")])), UnknownMethod);
    }
    for name in [
        "",
        "nope",
        "files.LIST",
        "files.list ",
        "system.multicall.x",
        "__init__",
    ] {
        assert_eq!(code(run(name, &[])), UnknownMethod, "{name:?}");
    }
    let long = "x".repeat(100_000);
    assert!(run(&long, &[]).unwrap_err().message.len() < 120);
}

fn call(name: &str, params: Vec<Value>) -> Value {
    Value::Struct(vec![
        ("methodName".into(), s(name)),
        ("params".into(), Value::Array(params)),
    ])
}

fn fault_code(item: &Value) -> Option<i64> {
    match item.member("faultCode") {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

#[test]
fn multicall() {
    let calls = Value::Array(vec![
        call(
            "files.read",
            vec![s("docs/a.txt"), Value::Int(0), Value::Int(5)],
        ),
        call("files.stat", vec![s("missing")]),
        call("system.listMethods", vec![]),
        call("system.multicall", vec![Value::Array(vec![])]),
        call("nope", vec![]),
        call("files.list", vec![]),
        s("not a struct"),
        Value::Struct(vec![("methodName".into(), s("system.listMethods"))]),
        Value::Struct(vec![
            ("methodName".into(), Value::Int(1)),
            ("params".into(), Value::Array(vec![])),
        ]),
    ]);
    let Ok(Value::Array(items)) = run("system.multicall", &[calls]) else {
        panic!()
    };
    assert_eq!(
        items[0],
        Value::Array(vec![Value::Base64(b"hello".to_vec())])
    );
    let codes: Vec<Option<i64>> = items.iter().map(fault_code).collect();
    let bad = Some(BadArguments.code().into());
    assert_eq!(
        codes,
        [None, Some(1), None, bad, Some(7), bad, bad, bad, bad]
    );
    assert!(matches!(&items[2], Value::Array(one) if one.len() == 1));
    assert_eq!(
        run("system.multicall", &[Value::Array(vec![])]),
        Ok(Value::Array(vec![]))
    );
}

#[test]
fn a_request_shares_one_read_budget() {
    let half = Value::Int((MAX_READ / 2) as i64);
    let piece = |offset: u64| {
        call(
            "files.read",
            vec![s("big.bin"), Value::Int(offset as i64), half.clone()],
        )
    };
    let calls = Value::Array(vec![
        piece(0),
        piece(MAX_READ / 2),
        call(
            "files.read",
            vec![s("docs/a.txt"), Value::Int(0), Value::Int(1)],
        ),
        call("files.read", vec![s("empty.txt")]),
        call("files.stat", vec![s("big.bin")]),
    ]);
    let Ok(Value::Array(items)) = run("system.multicall", &[calls]) else {
        panic!()
    };
    let codes: Vec<Option<i64>> = items.iter().map(fault_code).collect();
    assert_eq!(
        codes,
        [None, None, Some(TooLarge.code().into()), None, None]
    );
    assert!(
        matches!(&items[1], Value::Array(one) if one[0] == Value::Base64(pattern(MAX_READ / 2, MAX_READ / 2)))
    );
}

#[test]
fn a_request_shares_one_listing_budget() {
    let mut fs = MemFs::new();
    for i in 0..MAX_ENTRIES / 2 + 1 {
        fs = fs.file(&format!("many/{i:05}"), 1);
    }
    let config = Config::default();
    let listed = run_with(&fs, &config, "files.list", &[s("many")]);
    assert_eq!(names(listed).len(), MAX_ENTRIES / 2 + 1);
    let twice = Value::Array(vec![
        call("files.list", vec![s("many")]),
        call("files.list", vec![s("many")]),
    ]);
    let Ok(Value::Array(items)) = run_with(&fs, &config, "system.multicall", &[twice]) else {
        panic!()
    };
    let codes: Vec<Option<i64>> = items.iter().map(fault_code).collect();
    assert_eq!(codes, [None, Some(TooLarge.code().into())]);
}

#[test]
fn list_of_a_file_or_worse() {
    let cases: &[(&str, FaultCode)] = &[
        ("docs/a.txt", NotADirectory),
        ("docs/a.txt/", NotADirectory),
        ("fifo", NotFound),
        ("missing", NotFound),
        ("locked", PermissionDenied),
        ("broken", IoError),
        ("docs/.secret", NotFound),
    ];
    for (path, want) in cases {
        assert_eq!(code(run("files.list", &[s(path)])), *want, "{path}");
    }
}
