//! `--auth` values, checked at start and handed to the component as `SANDSERVE_AUTH`.
//!
//! Each value is `USER:PASSWORD` or `USER:sha256:HEX`, HEX being the lower-case hex SHA-256
//! of the password. The component checks the requests (Basic, RFC 7617); the host only makes
//! sure every entry means what it looks like, so a typo is an error at start rather than a
//! user who can never log in. A user name cannot hold a colon (RFC 7617 §2): the first colon
//! ends it. Error messages name the entry by its position and never repeat a password.

use anyhow::bail;

/// Checked `--auth` entries, one `USER:PASSWORD` or `USER:sha256:HEX` each.
#[derive(Debug, Clone)]
pub struct Credentials {
    entries: Vec<String>,
}

impl Credentials {
    /// Checks every value: a user name before the first colon, no empty user or password,
    /// a `sha256:` digest of exactly 64 lower-case hex digits, no line break or other control
    /// character anywhere, and no user given twice.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> anyhow::Result<Credentials> {
        let mut users: Vec<&str> = Vec::new();
        for (index, value) in values.iter().enumerate() {
            let value = value.as_ref();
            let user = match check(value) {
                Ok(user) => user,
                Err(problem) => bail!("--auth value {}: {problem}", index + 1),
            };
            if users.contains(&user) {
                bail!("--auth value {}: user {user:?} is given twice", index + 1);
            }
            users.push(user);
        }
        let entries = values.iter().map(|v| v.as_ref().to_owned()).collect();
        Ok(Credentials { entries })
    }

    /// The `SANDSERVE_AUTH` value: one entry per line.
    pub fn env_value(&self) -> String {
        self.entries.join("\n")
    }

    /// True when there is no entry (no authentication).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The user name of a valid entry, or what is wrong with it (without the secret).
fn check(value: &str) -> Result<&str, String> {
    if value.chars().any(char::is_control) {
        return Err("contains a line break or another control character".into());
    }
    let Some((user, secret)) = value.split_once(':') else {
        return Err("is not USER:PASSWORD or USER:sha256:HEX (no colon)".into());
    };
    if user.is_empty() {
        return Err("the user name before the colon is empty".into());
    }
    match secret.strip_prefix("sha256:") {
        Some(hex) if !is_sha256_hex(hex) => Err(format!(
            "user {user:?}: the sha256 value is not 64 lower-case hex digits"
        )),
        Some(_) => Ok(user),
        None if secret.is_empty() => Err(format!("user {user:?}: the password is empty")),
        None => Ok(user),
    }
}

fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    #[test]
    fn good_entries_pass_through_one_per_line() {
        let hashed = format!("bob:sha256:{HASH}");
        let creds = Credentials::parse(&["me:secret", "x:a:b:c", &hashed]).unwrap();
        assert_eq!(creds.env_value(), format!("me:secret\nx:a:b:c\n{hashed}"));
    }

    #[test]
    fn bad_entries_are_refused_without_echoing_the_secret() {
        let upper = format!("bob:sha256:{}", HASH.to_uppercase());
        let short = format!("bob:sha256:{}", &HASH[1..]);
        let cases: [(&[&str], &str); 8] = [
            (&["mesecret"], "no colon"),
            (&[":secret"], "empty"),
            (&["me:"], "password is empty"),
            (&["me:sec\nret"], "line break"),
            (&["me:sec\rret"], "line break"),
            (&[&upper], "64 lower-case hex"),
            (&[&short], "64 lower-case hex"),
            (&["me:secret", "me:other"], "given twice"),
        ];
        for (values, want) in cases {
            let error = Credentials::parse(values).unwrap_err().to_string();
            assert!(error.contains(want), "{values:?}: {error}");
            assert!(
                !error.contains("secret") && !error.contains("ret"),
                "{error}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
