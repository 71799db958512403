//! The methods: `files.list`, `files.stat`, `files.read`, and the introspection methods
//! `system.listMethods`, `system.methodHelp`, `system.methodSignature`, `system.multicall`.

use super::value::Value;
use super::{Fault, BAD_ARGUMENTS, IS_A_DIRECTORY, MAX_READ, NOT_FOUND, TOO_LARGE, UNKNOWN_METHOD};
use crate::config::Config;
use crate::fs::{DirEntry, Fs, Kind, Metadata};
use crate::path::SafePath;

pub struct Method {
    pub name: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
    /// Signatures per the introspection spec: return type first, then parameter types.
    pub signatures: &'static [&'static [&'static str]],
}

pub const METHODS: &[Method] = &[
    Method {
        name: "files.list",
        usage: "files.list(path) -> array of struct",
        help: "Lists a directory: an array of {name, type, size, modified}, type being file, dir or symlink, sorted by name with directories first.",
        signatures: &[&["array", "string"]],
    },
    Method {
        name: "files.stat",
        usage: "files.stat(path) -> struct",
        help: "Describes one file or directory: {name, type, size, modified}.",
        signatures: &[&["struct", "string"]],
    },
    Method {
        name: "files.read",
        usage: "files.read(path[, offset[, length]]) -> base64",
        help: "Reads a file's bytes from offset (default 0), length bytes (default: to the end), at most 16 MiB per call.",
        signatures: &[&["base64", "string"], &["base64", "string", "int"], &["base64", "string", "int", "int"]],
    },
    Method {
        name: "system.listMethods",
        usage: "system.listMethods() -> array of string",
        help: "Lists the methods this server offers.",
        signatures: &[&["array"]],
    },
    Method {
        name: "system.methodHelp",
        usage: "system.methodHelp(name) -> string",
        help: "Returns the help text of a method.",
        signatures: &[&["string", "string"]],
    },
    Method {
        name: "system.methodSignature",
        usage: "system.methodSignature(name) -> array of array of string",
        help: "Returns a method's signatures: each an array of the return type followed by the parameter types.",
        signatures: &[&["array", "string"]],
    },
    Method {
        name: "system.multicall",
        usage: "system.multicall(calls) -> array",
        help: "Runs an array of {methodName, params} structs; each result is a one-element array, or a fault struct.",
        signatures: &[&["array", "array"]],
    },
];

pub fn dispatch(
    method: &str,
    params: &[Value],
    fs: &dyn Fs,
    config: &Config,
) -> Result<Value, Fault> {
    match method {
        "files.list" => list(&path_arg(params, 1, 1)?, fs, config),
        "files.stat" => stat(&path_arg(params, 1, 1)?, fs, config),
        "files.read" => read(params, fs, config),
        "system.listMethods" => {
            arity(params, 0, 0)?;
            Ok(Value::Array(
                METHODS.iter().map(|m| Value::Str(m.name.into())).collect(),
            ))
        }
        "system.methodHelp" => Ok(Value::Str(find(&string_arg(params)?)?.help.into())),
        "system.methodSignature" => Ok(Value::Array(
            find(&string_arg(params)?)?
                .signatures
                .iter()
                .map(|s| Value::Array(s.iter().map(|t| Value::Str((*t).into())).collect()))
                .collect(),
        )),
        "system.multicall" => multicall(params, fs, config),
        other => Err(Fault::new(
            UNKNOWN_METHOD,
            format!("unknown method {other:?}"),
        )),
    }
}

fn find(name: &str) -> Result<&'static Method, Fault> {
    METHODS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Fault::new(UNKNOWN_METHOD, format!("unknown method {name:?}")))
}

fn arity(params: &[Value], min: usize, max: usize) -> Result<(), Fault> {
    if params.len() < min || params.len() > max {
        return Err(Fault::new(
            BAD_ARGUMENTS,
            format!("expected {min}..={max} arguments, got {}", params.len()),
        ));
    }
    Ok(())
}

fn string_arg(params: &[Value]) -> Result<String, Fault> {
    arity(params, 1, 1)?;
    match &params[0] {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(Fault::new(BAD_ARGUMENTS, "expected a string")),
    }
}

/// The path argument, resolved like a URL path (relative paths are taken from the root).
fn path_arg(params: &[Value], min: usize, max: usize) -> Result<SafePath, Fault> {
    arity(params, min, max)?;
    let Value::Str(raw) = &params[0] else {
        return Err(Fault::new(BAD_ARGUMENTS, "the path must be a string"));
    };
    if raw.contains(['\0', '\\', '?', '#', '%']) {
        return Err(Fault::new(NOT_FOUND, "not found"));
    }
    let target = if raw.starts_with('/') {
        raw.clone()
    } else {
        format!("/{raw}")
    };
    SafePath::parse(&target).map_err(|_| Fault::new(NOT_FOUND, "not found"))
}

fn visible(path: &SafePath, fs: &dyn Fs, config: &Config) -> Result<Metadata, Fault> {
    if path.is_hidden() && !config.hidden {
        return Err(Fault::new(NOT_FOUND, "not found"));
    }
    let meta = fs.stat(path)?;
    if meta.kind == Kind::Other {
        return Err(Fault::new(NOT_FOUND, "not found"));
    }
    Ok(meta)
}

fn describe(name: &str, meta: &Metadata, symlink: bool) -> Value {
    let kind = match (symlink, meta.kind) {
        (true, _) => "symlink",
        (false, Kind::Dir) => "dir",
        (false, _) => "file",
    };
    let modified = match meta.modified {
        Some(t) => {
            let text = humantime::format_rfc3339_seconds(t.to_system_time()).to_string();
            // 2026-11-24T02:32:20Z -> 20261124T02:32:20, the form XML-RPC clients parse.
            Value::DateTime(text.trim_end_matches('Z').replacen('-', "", 2))
        }
        None => Value::Nil,
    };
    Value::Struct(vec![
        ("name".into(), Value::Str(name.into())),
        ("type".into(), Value::Str(kind.into())),
        (
            "size".into(),
            Value::Int(i64::try_from(meta.size).unwrap_or(i64::MAX)),
        ),
        ("modified".into(), modified),
    ])
}

fn list(path: &SafePath, fs: &dyn Fs, config: &Config) -> Result<Value, Fault> {
    let meta = visible(path, fs, config)?;
    if meta.kind != Kind::Dir {
        return Err(Fault::new(BAD_ARGUMENTS, "not a directory"));
    }
    let mut entries: Vec<DirEntry> = Vec::new();
    fs.read_dir(path, &mut |entry| {
        if config.hidden || !entry.name.starts_with('.') {
            entries.push(entry);
        }
    })?;
    crate::listing::sort_entries(&mut entries, Default::default(), Default::default());
    Ok(Value::Array(
        entries
            .iter()
            .map(|e| describe(&e.name, &e.meta, e.symlink))
            .collect(),
    ))
}

fn stat(path: &SafePath, fs: &dyn Fs, config: &Config) -> Result<Value, Fault> {
    let meta = visible(path, fs, config)?;
    Ok(describe(path.file_name().unwrap_or("/"), &meta, false))
}

fn read(params: &[Value], fs: &dyn Fs, config: &Config) -> Result<Value, Fault> {
    let path = path_arg(params, 1, 3)?;
    let number = |i: usize| -> Result<Option<u64>, Fault> {
        match params.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n as u64)),
            Some(_) => Err(Fault::new(
                BAD_ARGUMENTS,
                "offset and length must be non-negative integers",
            )),
        }
    };
    let (offset, length) = (number(1)?.unwrap_or(0), number(2)?);
    let meta = visible(&path, fs, config)?;
    if meta.kind == Kind::Dir {
        return Err(Fault::new(IS_A_DIRECTORY, "is a directory"));
    }
    let available = meta.size.saturating_sub(offset);
    let len = length.unwrap_or(available).min(available);
    if length.unwrap_or(available) > MAX_READ {
        return Err(Fault::new(
            TOO_LARGE,
            "at most 16 MiB per call: pass an offset and a length",
        ));
    }
    Ok(Value::Base64(fs.read(&path, offset, len)?))
}

fn multicall(params: &[Value], fs: &dyn Fs, config: &Config) -> Result<Value, Fault> {
    arity(params, 1, 1)?;
    let Value::Array(calls) = &params[0] else {
        return Err(Fault::new(BAD_ARGUMENTS, "expected an array of calls"));
    };
    let results = calls
        .iter()
        .map(|call| {
            let result = match call {
                Value::Struct(members) => {
                    let get = |key: &str| members.iter().find(|(k, _)| k == key).map(|(_, v)| v);
                    match (get("methodName"), get("params")) {
                        (Some(Value::Str(name)), Some(Value::Array(args)))
                            if name != "system.multicall" =>
                        {
                            dispatch(name, args, fs, config)
                        }
                        (Some(Value::Str(name)), _) if name == "system.multicall" => Err(
                            Fault::new(BAD_ARGUMENTS, "system.multicall cannot be nested"),
                        ),
                        _ => Err(Fault::new(
                            BAD_ARGUMENTS,
                            "each call is {methodName, params}",
                        )),
                    }
                }
                _ => Err(Fault::new(BAD_ARGUMENTS, "each call is a struct")),
            };
            match result {
                Ok(value) => Value::Array(vec![value]),
                Err(fault) => fault.value(),
            }
        })
        .collect();
    Ok(Value::Array(results))
}

#[cfg(test)]
mod tests {
    use super::super::{handle_call, value, PARSE_ERROR, PERMISSION_DENIED};
    use super::*;
    use crate::memfs::MemFs;

    fn setup() -> MemFs {
        let fs = MemFs::new()
            .file("docs/a.txt", 11)
            .file("docs/.secret", 3)
            .file("big.bin", 40 << 20)
            .dir("docs/sub")
            .special("fifo")
            .deny("locked");
        fs.dir("locked")
    }

    fn call(method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        dispatch(method, &params, &setup(), &Config::default())
    }

    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    fn code(result: Result<Value, Fault>) -> i64 {
        result.expect_err("a fault").code
    }

    #[test]
    fn files_methods() {
        let Value::Array(entries) = call("files.list", vec![s("/docs")]).unwrap() else {
            panic!()
        };
        let names: Vec<Value> = entries
            .iter()
            .map(|e| match e {
                Value::Struct(m) => m[0].1.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(names, vec![s("sub"), s("a.txt")]);
        let Value::Struct(stat) = call("files.stat", vec![s("docs/a.txt")]).unwrap() else {
            panic!()
        };
        assert_eq!(stat[0], ("name".into(), s("a.txt")));
        assert_eq!(stat[1], ("type".into(), s("file")));
        assert_eq!(stat[2], ("size".into(), Value::Int(11)));
        assert_eq!(
            stat[3],
            (
                "modified".into(),
                Value::DateTime("20231114T22:13:20".into())
            )
        );
        assert_eq!(
            call("files.read", vec![s("/docs/a.txt")]).unwrap(),
            Value::Base64(b"docs/a.txtd".to_vec())
        );
        assert_eq!(
            call(
                "files.read",
                vec![s("/docs/a.txt"), Value::Int(6), Value::Int(3)]
            )
            .unwrap(),
            Value::Base64(b".tx".to_vec())
        );
        assert_eq!(
            call("files.read", vec![s("/docs/a.txt"), Value::Int(99)]).unwrap(),
            Value::Base64(vec![])
        );
    }

    #[test]
    fn faults_have_stable_codes() {
        assert_eq!(code(call("files.stat", vec![s("/nope")])), NOT_FOUND);
        assert_eq!(
            code(call("files.stat", vec![s("/../etc/passwd")])),
            NOT_FOUND
        );
        assert_eq!(
            code(call("files.stat", vec![s("/docs/%2e%2e/%2e%2e/x")])),
            NOT_FOUND
        );
        assert_eq!(
            code(call("files.stat", vec![s("/docs/.secret")])),
            NOT_FOUND
        );
        assert_eq!(code(call("files.stat", vec![s("/fifo")])), NOT_FOUND);
        assert_eq!(code(call("files.stat", vec![s("a\0b")])), NOT_FOUND);
        assert_eq!(
            code(call("files.stat", vec![s("/locked")])),
            PERMISSION_DENIED
        );
        assert_eq!(code(call("files.read", vec![s("/docs")])), IS_A_DIRECTORY);
        assert_eq!(code(call("files.read", vec![s("/big.bin")])), TOO_LARGE);
        // A large file is read in pieces of at most 16 MiB.
        assert!(
            matches!(call("files.read", vec![s("/big.bin"), Value::Int(0), Value::Int(10)]), Ok(Value::Base64(b)) if b.len() == 10)
        );
        assert_eq!(
            code(call(
                "files.read",
                vec![s("/big.bin"), Value::Int(0), Value::Int((16 << 20) + 1)]
            )),
            TOO_LARGE
        );
        assert_eq!(
            code(call("files.read", vec![s("/docs/a.txt"), Value::Int(-1)])),
            BAD_ARGUMENTS
        );
        assert_eq!(
            code(call("files.read", vec![s("/docs/a.txt"), s("x")])),
            BAD_ARGUMENTS
        );
        assert_eq!(code(call("files.list", vec![])), BAD_ARGUMENTS);
        assert_eq!(code(call("files.list", vec![Value::Int(1)])), BAD_ARGUMENTS);
        assert_eq!(
            code(call("files.list", vec![s("/docs/a.txt")])),
            BAD_ARGUMENTS
        );
        assert_eq!(code(call("nope.nope", vec![])), UNKNOWN_METHOD);
        assert_eq!(
            code(call("system.methodHelp", vec![s("nope")])),
            UNKNOWN_METHOD
        );
    }

    #[test]
    fn introspection_and_multicall() {
        let Value::Array(names) = call("system.listMethods", vec![]).unwrap() else {
            panic!()
        };
        assert_eq!(names.len(), METHODS.len());
        assert!(
            matches!(call("system.methodHelp", vec![s("files.read")]), Ok(Value::Str(h)) if h.contains("16 MiB"))
        );
        assert_eq!(
            call("system.methodSignature", vec![s("files.stat")]).unwrap(),
            Value::Array(vec![Value::Array(vec![s("struct"), s("string")])])
        );
        let calls = Value::Array(vec![
            Value::Struct(vec![
                ("methodName".into(), s("files.read")),
                ("params".into(), Value::Array(vec![s("/docs/a.txt")])),
            ]),
            Value::Struct(vec![
                ("methodName".into(), s("files.stat")),
                ("params".into(), Value::Array(vec![s("/nope")])),
            ]),
            s("not a struct"),
        ]);
        let Value::Array(results) = call("system.multicall", vec![calls]).unwrap() else {
            panic!()
        };
        assert_eq!(
            results[0],
            Value::Array(vec![Value::Base64(b"docs/a.txtd".to_vec())])
        );
        assert!(matches!(&results[1], Value::Struct(m) if m[0].1 == Value::Int(NOT_FOUND)));
        assert!(matches!(&results[2], Value::Struct(m) if m[0].1 == Value::Int(BAD_ARGUMENTS)));
    }

    #[test]
    fn whole_documents() {
        let fs = setup();
        let ok = handle_call(
            b"<?xml version='1.0'?><methodCall><methodName>files.read</methodName><params><param><value><string>docs/a.txt</string></value></param></params></methodCall>",
            &fs,
            &Config::default(),
        );
        // MemFs fills a file with its path's bytes: "docs/a.txt" + "d" (11 bytes).
        assert!(ok.contains("<base64>ZG9jcy9hLnR4dGQ=</base64>"), "{ok}");
        let bad = handle_call(b"<not-xml", &fs, &Config::default());
        assert!(
            bad.contains("<fault>") && bad.contains(&format!("<int>{PARSE_ERROR}</int>")),
            "{bad}"
        );
        let _ = value::MAX_DEPTH;
    }

    #[test]
    fn hidden_files_with_hidden_config() {
        let config = Config {
            hidden: true,
            ..Config::default()
        };
        assert!(dispatch("files.stat", &[s("/docs/.secret")], &setup(), &config).is_ok());
    }
}
