//! `SANDSERVE_*` environment -> [`Config`], parsed and validated once, into types.
//!
//! [`SETTINGS`] is the one table of what can be configured: each setting's `sandserve` flag,
//! its variable, and its default. The native host builds its command line from it and
//! `sandserve-host` re-exports it; under `wasmtime serve` the same variables come from
//! `--env`, so every host configures the component the same way. Defaults live only in that
//! table, and go through the same parser as a value someone set.
//!
//! A value that does not parse is an error naming its variable: the native host reports it at
//! start, before listening; other hosts get a `500` for every request, with the reason on
//! stderr, rather than a server quietly running with a setting it ignored. Variables outside
//! the table are ignored. The environment cannot change during an instance's life, so the
//! component parses it once per instance.

use std::fmt;

use http::header::HeaderName;

use crate::auth::Users;
use crate::header::HeaderValue;
use crate::path::SafePath;
use crate::visibility::Visibility;

/// One configurable setting: how a person sets it, and how a host passes it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The `sandserve` flag (`--hidden`).
    pub flag: &'static str,
    /// Its short form, if any (`-H`).
    pub short: Option<char>,
    /// The environment variable the component reads (`SANDSERVE_HIDDEN`).
    pub var: &'static str,
    /// `None` for an on/off switch (set as `1`), else the value's placeholder in help.
    pub value_name: Option<&'static str>,
    /// The value used when the variable is absent, if any.
    pub default: Option<&'static str>,
    /// Given more than once, the values are joined one per line.
    pub repeatable: bool,
    /// One line of help.
    pub help: &'static str,
}

const fn switch(flag: &'static str, var: &'static str, help: &'static str) -> Setting {
    Setting {
        flag,
        short: None,
        var,
        value_name: None,
        default: None,
        repeatable: false,
        help,
    }
}

const fn value(
    flag: &'static str,
    var: &'static str,
    value_name: &'static str,
    default: Option<&'static str>,
    help: &'static str,
) -> Setting {
    Setting {
        flag,
        short: None,
        var,
        value_name: Some(value_name),
        default,
        repeatable: false,
        help,
    }
}

/// Every setting of the component, in the order `--help` and the README show them.
pub const SETTINGS: &[Setting] = &[
    switch(
        "--hidden",
        "SANDSERVE_HIDDEN",
        "List and serve dot-files (hidden by default so .git and .env do not leak)",
    ),
    switch(
        "--no-listing",
        "SANDSERVE_NO_LISTING",
        "Directories without an index file give 404 instead of a listing",
    ),
    value(
        "--index",
        "SANDSERVE_INDEX",
        "NAMES",
        Some("index.html,index.htm"),
        "Index file names, comma-separated, tried in order",
    ),
    value(
        "--spa",
        "SANDSERVE_SPA",
        "FILE",
        None,
        "Serve FILE (relative to PATH) with 200 for browser navigations to missing paths",
    ),
    value(
        "--not-found",
        "SANDSERVE_NOT_FOUND",
        "FILE",
        None,
        "Serve FILE (relative to PATH) as the 404 page",
    ),
    switch(
        "--cors",
        "SANDSERVE_CORS",
        "Allow cross-origin requests: Access-Control-Allow-Origin: * and preflight answers",
    ),
    Setting {
        short: Some('H'),
        repeatable: true,
        ..value(
            "--header",
            "SANDSERVE_HEADERS",
            "NAME: VALUE",
            None,
            "Add a header to every response; repeatable",
        )
    },
    value(
        "--cache-control",
        "SANDSERVE_CACHE_CONTROL",
        "VALUE",
        Some("no-cache"),
        "Cache-Control for files and listings",
    ),
    switch(
        "--no-compress",
        "SANDSERVE_NO_COMPRESS",
        "Do not compress responses on the fly",
    ),
    switch(
        "--xmlrpc",
        "SANDSERVE_XMLRPC",
        "Serve the XML-RPC API (and its documentation page) at /RPC2",
    ),
    switch(
        "--webdav",
        "SANDSERVE_WEBDAV",
        "Serve WebDAV (class 1, read-only unless --upload): OPTIONS and PROPFIND, to mount the \
         share",
    ),
    switch(
        "--upload",
        "SANDSERVE_UPLOAD",
        "Accept uploads (PUT of new files, and a form on listings); mounts PATH read-write",
    ),
    switch(
        "--modify",
        "SANDSERVE_MODIFY",
        "Also replace files (PUT over a name, atomically) and DELETE them; implies --upload",
    ),
    value(
        "--max-upload",
        "SANDSERVE_MAX_UPLOAD",
        "SIZE",
        Some("1G"),
        "Largest request body an upload may send (e.g. 64M, 1G)",
    ),
    Setting {
        repeatable: true,
        ..value(
            "--auth",
            "SANDSERVE_AUTH",
            "USER:PASSWORD",
            None,
            "Require HTTP Basic authentication: USER:PASSWORD or USER:sha256:HEX (the \
             lower-case hex SHA-256 of the password); repeatable",
        )
    },
];

/// Set by an embedding host (`ServerBuilder::base_path`), not by a flag.
pub const BASE_PATH_VAR: &str = "SANDSERVE_BASE_PATH";

/// Settings that change what the component serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Whether dot-files are served and listed.
    pub(crate) visibility: Visibility,
    /// List directories that have no index file.
    pub(crate) listing: bool,
    /// Index file names (single path segments) tried in order for a directory.
    pub(crate) index: Vec<String>,
    /// Served with 200 for GETs of missing paths that accept HTML.
    pub(crate) spa: Option<SafePath>,
    /// Served with 404 for missing paths.
    pub(crate) not_found: Option<SafePath>,
    /// `Access-Control-Allow-Origin: *` and preflight answers.
    pub(crate) cors: bool,
    /// Extra response headers, in order.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Compress compressible responses on the fly.
    pub(crate) compress: bool,
    /// `Cache-Control` for files and listings.
    pub(crate) cache_control: HeaderValue,
    /// The XML-RPC API at `/RPC2`.
    pub(crate) xmlrpc: bool,
    /// WebDAV: `OPTIONS` and `PROPFIND`.
    pub(crate) webdav: bool,
    /// Accept uploads: `PUT` of new files and `POST` of forms.
    pub(crate) upload: bool,
    /// Also replace and delete files (`--modify`, which turns `upload` on too).
    pub(crate) modify: bool,
    /// The largest request body an upload may send, in bytes.
    pub(crate) max_upload: u64,
    /// Users who may make requests; when empty, anyone may.
    pub(crate) users: Users,
    /// Where an embedding router mounts the server (`/files`): prefixed to the absolute URLs
    /// the component generates (redirects, breadcrumbs).
    pub(crate) base_path: String,
}

/// A variable whose value does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong with its value.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Config {
        Config::from_vars(std::iter::empty()).expect("the defaults in SETTINGS parse")
    }
}

impl Config {
    /// Builds the configuration from `(name, value)` pairs such as `std::env::vars()`: the
    /// defaults of [`SETTINGS`] first, then each variable that is set.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config {
            visibility: Visibility::default(),
            listing: true,
            index: Vec::new(),
            spa: None,
            not_found: None,
            cors: false,
            headers: Vec::new(),
            compress: true,
            cache_control: HeaderValue::from_static("no-cache"),
            xmlrpc: false,
            webdav: false,
            upload: false,
            modify: false,
            max_upload: 0,
            users: Users::default(),
            base_path: String::new(),
        };
        for setting in SETTINGS {
            if let Some(default) = setting.default {
                config.set(setting.var, default)?;
            }
        }
        for (name, value) in vars {
            if let Some(var) = known_var(&name) {
                config.set(var, &value)?;
            }
        }
        Ok(config)
    }

    /// Whether uploads are on: a host that mounts the directory itself mounts it read-write
    /// only then.
    pub fn uploads(&self) -> bool {
        self.upload
    }

    /// Whether requests need credentials (`SANDSERVE_AUTH` names users): a host shows user
    /// names in its log only then.
    pub fn requires_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// Applies one variable's value.
    fn set(&mut self, var: &'static str, value: &str) -> Result<(), ConfigError> {
        let fail = |reason: String| ConfigError { var, reason };
        match var {
            "SANDSERVE_HIDDEN" => {
                self.visibility = Visibility::new(switch_value(value).map_err(fail)?)
            }
            "SANDSERVE_NO_LISTING" => self.listing = !switch_value(value).map_err(fail)?,
            "SANDSERVE_CORS" => self.cors = switch_value(value).map_err(fail)?,
            "SANDSERVE_NO_COMPRESS" => self.compress = !switch_value(value).map_err(fail)?,
            "SANDSERVE_XMLRPC" => self.xmlrpc = switch_value(value).map_err(fail)?,
            "SANDSERVE_WEBDAV" => self.webdav = switch_value(value).map_err(fail)?,
            "SANDSERVE_UPLOAD" => self.upload |= switch_value(value).map_err(fail)?,
            "SANDSERVE_MODIFY" => {
                self.modify = switch_value(value).map_err(fail)?;
                self.upload |= self.modify;
            }
            "SANDSERVE_MAX_UPLOAD" => {
                self.max_upload = crate::size::parse_size(value).map_err(fail)?
            }
            "SANDSERVE_INDEX" => self.index = index_names(value).map_err(fail)?,
            "SANDSERVE_SPA" => self.spa = served_file(value).map_err(fail)?,
            "SANDSERVE_NOT_FOUND" => self.not_found = served_file(value).map_err(fail)?,
            "SANDSERVE_HEADERS" => self.headers = header_lines(value).map_err(fail)?,
            "SANDSERVE_CACHE_CONTROL" => self.cache_control = cache_control(value).map_err(fail)?,
            "SANDSERVE_AUTH" => self.users = Users::parse(value).map_err(fail)?,
            BASE_PATH_VAR => self.base_path = base_path(value).map_err(fail)?,
            _ => unreachable!("known_var only returns variables handled here"),
        }
        Ok(())
    }
}

/// The table's name for a variable this module reads, if it is one.
fn known_var(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .map(|s| s.var)
        .chain([BASE_PATH_VAR])
        .find(|var| *var == name)
}

/// `1`, `true`, `yes`, `on` (any case) switch on; `0`, `false`, `no`, `off` and empty, off.
fn switch_value(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("{other:?} is not 1 or 0")),
    }
}

/// `a.html, b.htm`: each a single file name.
fn index_names(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            SafePath::root()
                .join(name)
                .map(|_| name.to_owned())
                .ok_or_else(|| format!("{name:?} is not a file name"))
        })
        .collect()
}

/// A file inside the served directory, as configuration names it (`app/index.html`).
fn served_file(value: &str) -> Result<Option<SafePath>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    SafePath::from_config(value)
        .map(Some)
        .ok_or_else(|| format!("{value:?} is not a path inside the served directory"))
}

/// `Name: value` lines; blank lines are skipped.
fn header_lines(text: &str) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(header_line)
        .collect()
}

/// One `Name: value` line, as `-H` takes it.
fn header_line(line: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| format!("{line:?} is not 'Name: value'"))?;
    let (name, value) = (name.trim(), value.trim());
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("{value:?} is not a valid header value"))?;
    Ok((name, value))
}

fn cache_control(value: &str) -> Result<HeaderValue, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("empty".to_owned());
    }
    HeaderValue::from_str(value).map_err(|_| format!("{value:?} is not a valid header value"))
}

/// `/files/` -> `/files`: a plain absolute path, or empty for the root.
fn base_path(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let plain = value.starts_with('/')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    if value.is_empty() || plain {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not a plain absolute path"))
    }
}

#[cfg(test)]
mod tests;
