//! Command-line arguments: each subcommand states the flags and options it takes, and anything
//! else — an unknown flag, a missing value, a stray word — is an error with the usage, never a
//! silent default (a mistyped `--only` must not run the whole suite).

use crate::util::{Result, fail};

/// What a subcommand accepts: flags (`--skip-cargo`), options with a value (`--only NAME`) and
/// at most `positionals` bare words.
pub struct Spec {
    pub flags: &'static [&'static str],
    pub options: &'static [&'static str],
    pub positionals: usize,
}

/// Parsed arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    flags: Vec<String>,
    options: Vec<(String, String)>,
    pub positionals: Vec<String>,
    /// `-h`/`--help` was given: print the usage and do nothing else.
    pub help: bool,
}

impl Args {
    /// Parses `args` (the words after the subcommand) against `spec`.
    pub fn parse(args: &[String], spec: &Spec) -> Result<Args> {
        let mut out = Args::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-h" || a == "--help" {
                out.help = true;
            } else if spec.flags.contains(&a.as_str()) {
                if out.flags.contains(a) {
                    fail!("`{a}` is given twice");
                }
                out.flags.push(a.clone());
            } else if let Some((name, value)) =
                a.split_once('=').filter(|(n, _)| spec.options.contains(n))
            {
                out.set(name, value)?;
            } else if spec.options.contains(&a.as_str()) {
                match it.next() {
                    Some(v) if !v.starts_with("--") => out.set(a, v)?,
                    _ => fail!("`{a}` needs a value"),
                }
            } else if a.starts_with('-') {
                fail!("unknown option `{a}`");
            } else if out.positionals.len() < spec.positionals {
                out.positionals.push(a.clone());
            } else {
                fail!("unexpected argument `{a}`");
            }
        }
        Ok(out)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<()> {
        if self.options.iter().any(|(n, _)| n == name) {
            fail!("`{name}` is given twice");
        }
        if value.is_empty() {
            fail!("`{name}` needs a non-empty value");
        }
        self.options.push((name.to_string(), value.to_string()));
        Ok(())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// The value of `name` as a number, with an error naming the option when it is not one.
    pub fn number(&self, name: &str) -> Result<Option<u64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => fail!("`{name}` takes a positive whole number, not `{v}`"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        flags: &["--skip-cargo"],
        options: &["--only", "--repeat"],
        positionals: 1,
    };

    fn parse(words: &[&str]) -> Result<Args> {
        let v: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        Args::parse(&v, &SPEC)
    }

    #[test]
    fn known_flags_and_options_are_read() {
        let a = parse(&["--skip-cargo", "--only", "02", "x"]).unwrap();
        assert!(a.flag("--skip-cargo"));
        assert_eq!(a.value("--only").as_deref(), Some("02"));
        assert_eq!(a.positionals, vec!["x"]);
        let b = parse(&["--only=03"]).unwrap();
        assert_eq!(b.value("--only").as_deref(), Some("03"));
    }

    #[test]
    fn help_is_recognised_anywhere() {
        assert!(parse(&["--only", "02", "--help"]).unwrap().help);
        assert!(parse(&["-h"]).unwrap().help);
    }

    #[test]
    fn unknown_flags_missing_values_and_stray_words_are_errors() {
        assert!(
            parse(&["--skip-carg"])
                .unwrap_err()
                .0
                .contains("unknown option `--skip-carg`")
        );
        assert!(parse(&["--only"]).unwrap_err().0.contains("needs a value"));
        assert!(
            parse(&["--only", "--skip-cargo"])
                .unwrap_err()
                .0
                .contains("needs a value")
        );
        assert!(
            parse(&["a", "b"])
                .unwrap_err()
                .0
                .contains("unexpected argument `b`")
        );
        assert!(
            parse(&["--only", "1", "--only", "2"])
                .unwrap_err()
                .0
                .contains("twice")
        );
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(
            parse(&["--repeat", "50"])
                .unwrap()
                .number("--repeat")
                .unwrap(),
            Some(50)
        );
        assert!(
            parse(&["--repeat", "many"])
                .unwrap()
                .number("--repeat")
                .is_err()
        );
        assert!(
            parse(&["--repeat", "0"])
                .unwrap()
                .number("--repeat")
                .is_err()
        );
    }
}
