//! HTTP Basic authentication (RFC 7617) for every request, when users are configured.
//!
//! Users come from `SANDSERVE_AUTH` (`--auth`), one `USER:PASSWORD` or `USER:sha256:HEX` per
//! line, where HEX is the lower-case hex SHA-256 of the password. A password that itself
//! starts with `sha256:` must therefore be given hashed. Only the digests are kept.
//!
//! Checking a request:
//! - Exactly one `Authorization` field line, scheme `Basic` (any case, RFC 9110 §11.1), one
//!   space, then base64 (RFC 4648 §4, padding required, no whitespace inside) of
//!   `user:password` in UTF-8 (RFC 7617 §2.1, the `charset="UTF-8"` we announce). The
//!   password may contain `:`; the user may not.
//! - Anything else (no header, another scheme, bad base64, no colon, not UTF-8, a field over
//!   [`MAX_FIELD`] bytes) is simply "not authenticated": the answer is 401, never 400 or 500,
//!   so a client learns nothing but that it needs credentials.
//! - The given user and password are hashed first and compared with every configured user in
//!   constant time (`subtle`), without stopping at a match, so neither the lengths nor which
//!   part was wrong leak through timing.

use std::fmt;

use base64::Engine as _;
use http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::header::{HeaderMap, HeaderValue};

/// The longest `Authorization` field considered; longer ones are refused unread.
pub(crate) const MAX_FIELD: usize = 4096;

/// The challenge of a 401 (RFC 7617 §2, §2.1).
pub(crate) const CHALLENGE: &str = "Basic realm=\"sandserve\", charset=\"UTF-8\"";

type Digest32 = [u8; 32];

/// The configured users, as digests of their names and passwords.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Users(Vec<(Digest32, Digest32)>);

impl fmt::Debug for Users {
    /// Never prints digests: a log line must not help anyone guess a password offline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Users({} configured)", self.0.len())
    }
}

impl Users {
    /// Parses `USER:PASSWORD` / `USER:sha256:HEX` lines; blank lines are skipped. Errors
    /// name the entry by its position and never repeat a password.
    pub(crate) fn parse(text: &str) -> Result<Users, String> {
        let mut users: Vec<(Digest32, Digest32)> = Vec::new();
        for (index, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let entry = parse_entry(line).map_err(|e| format!("entry {}: {e}", index + 1))?;
            if users.iter().any(|(user, _)| *user == entry.0) {
                return Err(format!("entry {}: the user is given twice", index + 1));
            }
            users.push(entry);
        }
        Ok(Users(users))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The user name the request authenticates as, if its credentials match a user.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Option<String> {
        let (user, password) = credentials(headers)?;
        let (user_digest, password_digest) = (sha256(user.as_bytes()), sha256(password.as_bytes()));
        let mut matched = subtle::Choice::from(0);
        for (name, secret) in &self.0 {
            matched |= name.ct_eq(&user_digest) & secret.ct_eq(&password_digest);
        }
        bool::from(matched).then_some(user)
    }
}

/// One entry's user and password digests, or what is wrong with it (without the secret).
fn parse_entry(line: &str) -> Result<(Digest32, Digest32), String> {
    if line.chars().any(char::is_control) {
        return Err("contains a control character".to_owned());
    }
    let (user, secret) = line
        .split_once(':')
        .ok_or("is not USER:PASSWORD or USER:sha256:HEX (no colon)")?;
    if user.is_empty() {
        return Err("the user name before the colon is empty".to_owned());
    }
    let password = match secret.strip_prefix("sha256:") {
        Some(hex) => from_hex(hex)
            .ok_or_else(|| format!("user {user:?}: the sha256 is not 64 lower-case hex digits"))?,
        None if secret.is_empty() => return Err(format!("user {user:?}: the password is empty")),
        None => sha256(secret.as_bytes()),
    };
    Ok((sha256(user.as_bytes()), password))
}

/// The `WWW-Authenticate` value of a 401.
pub(crate) fn challenge() -> HeaderValue {
    HeaderValue::from_static(CHALLENGE)
}

/// The user and password of a well-formed `Basic` `Authorization` field.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let mut lines = headers.get_all(AUTHORIZATION).iter();
    let (Some(field), None) = (lines.next(), lines.next()) else {
        return None;
    };
    let text = decode_basic(field.as_bytes())?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The user name in one `Authorization: Basic` field value, by the rules in the module
/// note (the password is decoded and dropped): what a host shows in its access log. `None`
/// for anything malformed, or an empty name.
pub fn basic_user(field: &[u8]) -> Option<String> {
    let text = decode_basic(field)?;
    let (user, _) = text.split_once(':')?;
    (!user.is_empty()).then(|| user.to_owned())
}

/// `user:password` from a `Basic` field value, or `None` when it breaks the rules.
fn decode_basic(field: &[u8]) -> Option<String> {
    if field.len() > MAX_FIELD {
        return None;
    }
    let (scheme, token) = field.split_at(field.iter().position(|&b| b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&token[1..])
        .ok()?;
    String::from_utf8(decoded).ok()
}

fn sha256(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// 64 lower-case hex digits -> 32 bytes.
fn from_hex(hex: &str) -> Option<Digest32> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
