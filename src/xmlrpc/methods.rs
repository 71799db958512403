//! The methods, as one table ([`METHODS`]) that dispatch, argument counts, introspection and
//! the documentation page all read, so they cannot disagree.
//!
//! Paths, for every `files.*` method: names relative to the served directory, `/`-separated,
//! a leading `/` optional. Each name is taken literally (this is not a URL: `100%`, `a#b` and
//! `%2e%2e` are ordinary names) and then normalised by [`SafePath::parse`] like a request
//! target, so `.` and `..` navigate, `..` above the root, NUL and `\` are "not found", and
//! one sandbox serves both APIs. Dot-files are "not found" unless `--hidden`, special files
//! always are; a file named with a trailing `/` is "not a directory", as POSIX says.
//!
//! Sizes are `<int>` up to 2^31 - 1 and the `<i8>` extension beyond (exact, and read by
//! Python's client); a double would round above 2^53 and is not an integer to a client.
//! Python's client cannot *send* integers past 2^31 - 1, so offsets and lengths are also
//! accepted as whole doubles.

use std::cell::Cell;
use std::fmt::Write as _;
use std::ops::ControlFlow;

use percent_encoding::utf8_percent_encode;

use super::value::{DateTime, Value};
use super::{size, Fault, FaultCode, MAX_ENTRIES, MAX_READ};
use crate::config::Config;
use crate::fs::{DirEntry, Fs, Kind, Metadata};
use crate::order::sort_entries;
use crate::path::{SafePath, SEGMENT};

type Outcome = Result<Value, Fault>;

pub(crate) struct Method {
    pub(crate) name: &'static str,
    /// Parameter names, for the documentation (types are in `signatures`).
    pub(crate) params: &'static [&'static str],
    /// Per the introspection spec: the return type, then the parameter types; one
    /// signature per accepted argument count, each a prefix of the longest.
    pub(crate) signatures: &'static [&'static [&'static str]],
    /// The help text, with `{MAX_READ}` standing for that limit (see [`Method::help`]).
    help: &'static str,
    run: fn(&Context<'_>, &[Value]) -> Outcome,
}

/// Sorted by name, as `system.listMethods` returns them.
pub(crate) const METHODS: &[Method] = &[
    Method {
        name: "files.list",
        params: &["path"],
        signatures: &[&["array", "string"]],
        help: "Lists the directory at path: an array of {name, type, size, modified} structs, \
               directories first, then by name. type is \"file\", \"dir\" or \"symlink\" (for a \
               symlink, size and modified are its target's; files.stat tells what it points to). \
               size is in bytes; modified is in UTC, or nil when the host does not know it. \
               Dot-files are left out unless the server runs with --hidden.",
        run: list,
    },
    Method {
        name: "files.read",
        params: &["path", "offset", "length"],
        signatures: &[
            &["base64", "string"],
            &["base64", "string", "int"],
            &["base64", "string", "int", "int"],
        ],
        help: "Reads the file at path as base64: length bytes (default: to the end) from offset \
               (default 0). At most {MAX_READ} per call, so read larger files in pieces; an offset \
               past the end reads nothing. Offsets and lengths past 2^31 - 1, which Python's \
               client cannot send as integers, may be sent as whole doubles.",
        run: read,
    },
    Method {
        name: "files.stat",
        params: &["path"],
        signatures: &[&["struct", "string"]],
        help: "Describes the file or directory at path: {name, type, size, modified}, as \
               files.list does, but following symlinks, so type is \"file\" or \"dir\".",
        run: stat,
    },
    Method {
        name: "system.listMethods",
        params: &[],
        signatures: &[&["array"]],
        help: "Lists the names of the methods this server offers.",
        run: list_methods,
    },
    Method {
        name: "system.methodHelp",
        params: &["name"],
        signatures: &[&["string", "string"]],
        help: "Returns the help text of the method called name.",
        run: method_help,
    },
    Method {
        name: "system.methodSignature",
        params: &["name"],
        signatures: &[&["array", "string"]],
        help: "Returns the signatures of the method called name: an array of arrays of type \
               names, each the return type followed by the parameter types.",
        run: method_signature,
    },
    Method {
        name: "system.multicall",
        params: &["calls"],
        signatures: &[&["array", "array"]],
        help: "Runs several calls in one request. calls is an array of {methodName, params} \
               structs; the result has one item per call, in order: a one-element array holding \
               its result, or a {faultCode, faultString} struct. The calls share one request's \
               limits, and system.multicall cannot be one of them.",
        run: multicall,
    },
];

impl Method {
    /// The help text, limits rendered from their constants.
    pub(crate) fn help(&self) -> String {
        self.help.replace("{MAX_READ}", &size(MAX_READ))
    }

    /// The fewest and most arguments the signatures accept.
    fn arity(&self) -> (usize, usize) {
        let counts = self.signatures.iter().map(|s| s.len().saturating_sub(1));
        (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0))
    }

    /// `files.read(string path[, int offset[, int length]]) → base64`, for the page.
    pub(crate) fn usage(&self) -> String {
        let longest = self
            .signatures
            .iter()
            .max_by_key(|s| s.len())
            .copied()
            .unwrap_or(&[]);
        let types = longest.get(1..).unwrap_or(&[]);
        let (required, _) = self.arity();
        let mut out = format!("{}(", self.name);
        for (i, ty) in types.iter().enumerate() {
            if i >= required {
                out.push('[');
            }
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{ty} {}", self.params.get(i).unwrap_or(&"arg"));
        }
        out.push_str(&"]".repeat(types.len().saturating_sub(required)));
        let _ = write!(out, ") → {}", longest.first().unwrap_or(&"nil"));
        out
    }
}

/// What one request's calls share: where to look, and what is left of its budgets.
pub(crate) struct Context<'a> {
    fs: &'a dyn Fs,
    config: &'a Config,
    read_left: Cell<u64>,
    entries_left: Cell<usize>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(fs: &'a dyn Fs, config: &'a Config) -> Context<'a> {
        Context {
            fs,
            config,
            read_left: Cell::new(MAX_READ),
            entries_left: Cell::new(MAX_ENTRIES),
        }
    }

    /// Metadata of a path a client may see (see the module note for what it may not).
    fn visible(&self, path: &SafePath) -> Result<Metadata, Fault> {
        if !self.config.visibility.shows_path(path) {
            return Err(Fault::not_found());
        }
        let meta = self.fs.stat(path)?;
        match meta.kind {
            Kind::Other => Err(Fault::not_found()),
            Kind::File if path.has_trailing_slash() => Err(not_a_directory()),
            Kind::File | Kind::Dir => Ok(meta),
        }
    }
}

/// Runs `name` with `params`, after checking the argument count against its signatures.
pub(crate) fn dispatch(cx: &Context<'_>, name: &str, params: &[Value]) -> Outcome {
    let method = find(name)?;
    let (min, max) = method.arity();
    if !(min..=max).contains(&params.len()) {
        let wanted = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(bad_arguments(format!(
            "{name} takes {wanted} argument{}, got {}",
            if max == 1 { "" } else { "s" },
            params.len()
        )));
    }
    (method.run)(cx, params)
}

fn find(name: &str) -> Result<&'static Method, Fault> {
    METHODS.iter().find(|m| m.name == name).ok_or_else(|| {
        Fault::new(
            FaultCode::UnknownMethod,
            format!("unknown method {:?}", clip(name)),
        )
    })
}

/// A method name echoed in a fault: enough to recognise, not a megabyte of it.
fn clip(name: &str) -> &str {
    name.char_indices()
        .nth(100)
        .map_or(name, |(cut, _)| &name[..cut])
}

fn bad_arguments(message: String) -> Fault {
    Fault::new(FaultCode::BadArguments, message)
}

fn not_a_directory() -> Fault {
    Fault::new(FaultCode::NotADirectory, "not a directory")
}

fn too_large(message: String) -> Fault {
    Fault::new(FaultCode::TooLarge, message)
}

/// Argument `i` (counting from 0), which must be a string.
fn string<'v>(params: &'v [Value], i: usize, what: &str) -> Result<&'v str, Fault> {
    match params.get(i) {
        Some(Value::Str(s)) => Ok(s),
        other => Err(bad_arguments(format!(
            "{what} must be a string, not {}",
            other.map_or("missing", Value::type_name)
        ))),
    }
}

/// Optional argument `i`: a non-negative integer, a whole double up to 2^53, or nil.
fn count(params: &[Value], i: usize, what: &str) -> Result<Option<u64>, Fault> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole double below is exact
    match params.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n as u64)),
        Some(Value::Double(d)) if d.fract() == 0.0 && (0.0..=EXACT).contains(d) => {
            Ok(Some(*d as u64))
        }
        Some(other) => Err(bad_arguments(format!(
            "{what} must be a non-negative integer, not {} {}",
            other.type_name(),
            match other {
                Value::Int(n) => n.to_string(),
                Value::Double(d) => d.to_string(),
                _ => String::new(),
            }
        ))),
    }
}

/// A client's path -> `SafePath`, literally (see the module note): each name is
/// percent-encoded so that `SafePath::parse` decodes it back to itself, and applies its rules.
fn resolve(raw: &str) -> Result<SafePath, Fault> {
    let mut target = String::with_capacity(raw.len() + 1);
    for name in raw.split('/') {
        target.push('/');
        target.extend(utf8_percent_encode(name, SEGMENT));
    }
    SafePath::parse(&target).map_err(|_| Fault::not_found())
}

/// The `{name, type, size, modified}` struct of files.list and files.stat.
fn describe(name: &str, meta: Metadata, symlink: bool) -> Value {
    let kind = meta.type_name(symlink);
    let modified = meta
        .modified
        .and_then(|t| DateTime::from_unix(t.seconds))
        .map_or(Value::Nil, Value::DateTime);
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

fn list(cx: &Context<'_>, params: &[Value]) -> Outcome {
    let path = resolve(string(params, 0, "path")?)?;
    if cx.visible(&path)?.kind != Kind::Dir {
        return Err(not_a_directory());
    }
    let left = cx.entries_left.get();
    let mut entries: Vec<DirEntry> = Vec::new();
    let mut over = false;
    cx.fs.read_dir(&path, &mut |entry| {
        if !cx
            .config
            .visibility
            .shows_entry(&entry.name, entry.meta.kind)
        {
            return ControlFlow::Continue(());
        }
        // Counted as they arrive, so a huge directory costs no more memory than the budget.
        if entries.len() < left {
            entries.push(entry);
            ControlFlow::Continue(())
        } else {
            over = true;
            ControlFlow::Break(())
        }
    })?;
    if over {
        return Err(too_large(format!(
            "more than {MAX_ENTRIES} directory entries in one request"
        )));
    }
    cx.entries_left.set(left - entries.len());
    // The HTTP listing's default order, so both APIs agree.
    sort_entries(&mut entries, Default::default(), Default::default());
    Ok(Value::Array(
        entries
            .iter()
            .map(|e| describe(&e.name, e.meta, e.symlink))
            .collect(),
    ))
}

fn stat(cx: &Context<'_>, params: &[Value]) -> Outcome {
    let path = resolve(string(params, 0, "path")?)?;
    let meta = cx.visible(&path)?;
    Ok(describe(path.file_name().unwrap_or("/"), meta, false))
}

fn read(cx: &Context<'_>, params: &[Value]) -> Outcome {
    let path = resolve(string(params, 0, "path")?)?;
    let offset = count(params, 1, "offset")?.unwrap_or(0);
    let length = count(params, 2, "length")?;
    if length.is_some_and(|n| n > MAX_READ) {
        return Err(too_large(format!(
            "length over {0}: read the file in pieces of at most {0}",
            size(MAX_READ)
        )));
    }
    let meta = cx.visible(&path)?;
    if meta.kind == Kind::Dir {
        return Err(Fault::new(FaultCode::IsADirectory, "is a directory"));
    }
    let available = meta.size.saturating_sub(offset);
    let len = length.map_or(available, |n| n.min(available));
    let left = cx.read_left.get();
    if len > left {
        return Err(too_large(if left == MAX_READ {
            format!(
                "over {}: pass an offset and a length to read the file in pieces",
                size(MAX_READ)
            )
        } else {
            format!("over {} read in one request", size(MAX_READ))
        }));
    }
    if len == 0 {
        return Ok(Value::Base64(Vec::new()));
    }
    let mut bytes = cx.fs.read(&path, offset, len)?;
    // A filesystem may not hand out more than was asked, or the budget would not hold.
    bytes.truncate(len as usize);
    cx.read_left.set(left - bytes.len() as u64);
    Ok(Value::Base64(bytes))
}

fn list_methods(_: &Context<'_>, _: &[Value]) -> Outcome {
    Ok(Value::Array(
        METHODS.iter().map(|m| Value::Str(m.name.into())).collect(),
    ))
}

fn method_help(_: &Context<'_>, params: &[Value]) -> Outcome {
    let method = find(string(params, 0, "name")?)?;
    Ok(Value::Str(method.help()))
}

fn method_signature(_: &Context<'_>, params: &[Value]) -> Outcome {
    let method = find(string(params, 0, "name")?)?;
    Ok(Value::Array(
        method
            .signatures
            .iter()
            .map(|s| Value::Array(s.iter().map(|t| Value::Str((*t).into())).collect()))
            .collect(),
    ))
}

fn multicall(cx: &Context<'_>, params: &[Value]) -> Outcome {
    let Some(Value::Array(calls)) = params.first() else {
        return Err(bad_arguments(
            "calls must be an array of {methodName, params} structs".into(),
        ));
    };
    Ok(Value::Array(
        calls
            .iter()
            .map(|call| match one_of_many(cx, call) {
                Ok(value) => Value::Array(vec![value]),
                Err(fault) => fault.to_value(),
            })
            .collect(),
    ))
}

fn one_of_many(cx: &Context<'_>, call: &Value) -> Outcome {
    let (Some(Value::Str(name)), Some(Value::Array(params))) =
        (call.member("methodName"), call.member("params"))
    else {
        return Err(bad_arguments(
            "each call must be a {methodName: string, params: array} struct".into(),
        ));
    };
    // Nesting would let one body fan out without bound; Kidd's RFC forbids it too.
    if name == "system.multicall" {
        return Err(bad_arguments(
            "system.multicall cannot be called from a multicall".into(),
        ));
    }
    dispatch(cx, name, params)
}

#[cfg(test)]
mod tests;
