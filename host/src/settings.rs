//! The component's settings as `sandserve` flags: one clap argument per row of the
//! component's own table ([`SETTINGS`], re-exported here), turned into the `SANDSERVE_*`
//! variables the component reads and checked by the component's own parser before anything
//! listens. So the flag names, variables and defaults exist in one place, and a bad value is
//! one clear error at start.

use anyhow::{anyhow, bail};
use clap::{Arg, ArgAction, ArgMatches, Command};

pub use sandserve::{Setting, SETTINGS};

/// One clap argument per setting. Defaults are shown in the help but not applied here: the
/// component applies them, from the same table.
pub fn args() -> Vec<Arg> {
    SETTINGS.iter().map(arg).collect()
}

fn arg(setting: &Setting) -> Arg {
    let long = setting.flag.trim_start_matches("--");
    let mut arg = Arg::new(long).long(long);
    if let Some(short) = setting.short {
        arg = arg.short(short);
    }
    let help = match setting.default {
        Some(default) => format!("{} [default: {default}]", setting.help),
        None => setting.help.to_owned(),
    };
    arg = arg.help(help);
    match setting.value_name {
        None => arg.action(ArgAction::SetTrue),
        Some(name) if setting.repeatable => arg.value_name(name).action(ArgAction::Append),
        Some(name) => arg.value_name(name).action(ArgAction::Set),
    }
}

/// The variables for the settings given in `matches` (a switch is `1`, a repeated value is
/// one line per use), validated by the component's parser.
pub fn env_from_matches(matches: &ArgMatches) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for setting in SETTINGS {
        let id = setting.flag.trim_start_matches("--");
        let value = match setting.value_name {
            None => matches.get_flag(id).then(|| "1".to_owned()),
            Some(_) => {
                let values: Option<Vec<&String>> =
                    matches.get_many::<String>(id).map(Iterator::collect);
                // A repeatable setting's values travel one per line: a line break inside
                // one would quietly make it two.
                if values.iter().flatten().any(|v| v.contains(['\n', '\r'])) {
                    bail!("{}: a value contains a line break", setting.flag);
                }
                values.map(|v| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"))
            }
        };
        if let Some(value) = value {
            env.push((setting.var.to_owned(), value));
        }
    }
    check(&env)?;
    Ok(env)
}

/// Checks variables with the component's own parser; the error names the flag.
pub fn check(env: &[(String, String)]) -> anyhow::Result<sandserve::Config> {
    sandserve::Config::from_vars(env.iter().cloned()).map_err(|error| {
        let flag = SETTINGS
            .iter()
            .find(|s| s.var == error.var)
            .map_or(error.var, |s| s.flag);
        anyhow!("{flag}: {}", error.reason)
    })
}

/// Whether these variables turn the component's uploads on, as its own parser reads them: only
/// then does the host mount the served directory read-write. Variables that do not parse
/// leave it read-only.
pub fn uploads(env: &[(String, String)]) -> bool {
    sandserve::Config::from_vars(env.iter().cloned()).is_ok_and(|config| config.uploads())
}

/// The variables for component flags as a person types them (`["--hidden", "-H", "X: 1"]`):
/// how tests run the same flags under hosts that take only the environment.
pub fn env_for_flags(flags: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    let command = Command::new("sandserve").no_binary_name(true).args(args());
    let matches = command.try_get_matches_from(flags)?;
    env_from_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(flags: &[&str]) -> Vec<(String, String)> {
        env_for_flags(flags).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flags_become_variables() {
        assert_eq!(
            env(&[]),
            pairs(&[]),
            "defaults are the component's to apply"
        );
        assert_eq!(
            env(&["--hidden", "--cors", "--index", "a.html,b.htm"]),
            pairs(&[
                ("SANDSERVE_HIDDEN", "1"),
                ("SANDSERVE_INDEX", "a.html,b.htm"),
                ("SANDSERVE_CORS", "1"),
            ])
        );
        assert_eq!(
            env(&["-H", "X-A: 1", "--header", "X-B: 2"]),
            pairs(&[("SANDSERVE_HEADERS", "X-A: 1\nX-B: 2")])
        );
    }

    #[test]
    fn uploads_follow_the_component_parser() {
        assert!(!uploads(&env(&[])));
        assert!(uploads(&env(&["--upload"])));
        assert!(!uploads(&pairs(&[("SANDSERVE_UPLOAD", "0")])));
        assert!(uploads(&pairs(&[("SANDSERVE_UPLOAD", "yes")])));
        assert!(
            !uploads(&pairs(&[
                ("SANDSERVE_UPLOAD", "1"),
                ("SANDSERVE_HIDDEN", "?")
            ])),
            "a configuration the component refuses mounts nothing writable"
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (flags, flag) in [
            (&["-H", "no colon"][..], "--header"),
            (&["--cache-control", ""], "--cache-control"),
            (&["--spa", "../x.html"], "--spa"),
            (&["--index", "a/b.html"], "--index"),
            (&["--max-upload", "lots"], "--max-upload"),
            (&["--max-upload", "1.5G"], "--max-upload"),
            (&["--auth", "me:a\nyou:b"], "--auth"),
            (&["-H", "X-A: 1\r\nX-B: 2"], "--header"),
        ] {
            let error = env_for_flags(flags).unwrap_err().to_string();
            assert!(error.starts_with(flag), "{error}");
        }
        assert!(env_for_flags(&["--no-such-flag"]).is_err());
    }

    #[test]
    fn readme_documents_every_setting() {
        let readme = include_str!("../../README.md");
        for setting in SETTINGS {
            let row = readme
                .lines()
                .find(|line| line.starts_with("| ") && line.contains(&format!("`{}", setting.flag)))
                .unwrap_or_else(|| panic!("no README row for {}", setting.flag));
            assert!(row.contains(setting.var), "{row}");
            if let Some(default) = setting.default {
                assert!(row.contains(default), "{row}");
            }
        }
    }
}
