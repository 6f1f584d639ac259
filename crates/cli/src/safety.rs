//! Asking before what cannot be undone or spends money, and the exit codes a script can
//! tell outcomes apart by.

use anyhow::Result;
use idcgate_engine::EngineError;
use std::io::IsTerminal;

/// Anything else that went wrong.
pub const EXIT_ERROR: u8 = 1;
// 2 is clap's own, for a command line it cannot parse.
/// A destructive or spending command was not confirmed: no terminal to ask at and no
/// `--yes`, or the answer at the terminal was not yes. Nothing was done.
pub const EXIT_NOT_CONFIRMED: u8 = 3;
/// What the command names does not exist, or is already gone (`dns rm` of a record
/// deleted before, `token revoke` of no active token, an unknown server or zone).
pub const EXIT_NOT_FOUND: u8 = 4;
/// A write whose answer was lost: it may or may not have happened upstream
/// (`order reconcile` or `sync` settles it by reading; never repeat it blindly).
pub const EXIT_UNKNOWN_OUTCOME: u8 = 5;

/// The exit codes as `idcgate --help` and the README list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  failed (the message says why)
  2  the command line is wrong (usage)
  3  not confirmed: a destructive or spending command needs --yes when standard input
     is not a terminal, or was declined at the prompt; nothing was done
  4  not found or already gone (e.g. `dns rm` of a record deleted before)
  5  unknown outcome: the upstream's answer to a write was lost; `order reconcile` or
     `sync` settles it by reading";

/// A failure with its own exit code; its message is the whole story.
#[derive(Debug)]
pub struct Coded {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// An error exiting with `code`.
pub fn coded(code: u8, message: impl Into<String>) -> anyhow::Error {
    Coded {
        code,
        message: message.into(),
    }
    .into()
}

/// The exit code for a failed command: a [`Coded`] anywhere in the chain, else what the
/// engine's or an upstream's error says, else [`EXIT_ERROR`].
pub fn exit_code(e: &anyhow::Error) -> u8 {
    use idcgate_core::Error as Up;
    let of_upstream = |u: &Up| match u {
        Up::NotFound { .. } => Some(EXIT_NOT_FOUND),
        Up::UnknownOutcome { .. } => Some(EXIT_UNKNOWN_OUTCOME),
        _ => None,
    };
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if let Some(idcgate_console::auth::AuthError::NoSuchOperator(_)) = cause.downcast_ref() {
            return EXIT_NOT_FOUND;
        }
        let code = if let Some(en) = cause.downcast_ref::<EngineError>() {
            match en {
                EngineError::NoSuchAccount(_)
                | EngineError::NoSuchZone(_)
                | EngineError::NoSuchServer(_)
                | EngineError::NoSuchOrder(_) => Some(EXIT_NOT_FOUND),
                EngineError::Upstream(u) => of_upstream(u),
                _ => None,
            }
        } else {
            cause.downcast_ref::<Up>().and_then(of_upstream)
        };
        if let Some(code) = code {
            return code;
        }
    }
    EXIT_ERROR
}

/// What to run next, for the engine's errors that have an answer at this surface
/// (the engine's own messages name no command: REST and the console show them too).
pub fn hint(e: &anyhow::Error) -> Option<&'static str> {
    e.chain()
        .find_map(|cause| match cause.downcast_ref::<EngineError>()? {
            EngineError::NoSuchAccount(_) => Some("see `idcgate account list`"),
            EngineError::NoSuchZone(_) | EngineError::NoSuchServer(_) => {
                Some("run `idcgate sync` first?")
            }
            _ => None,
        })
}

/// Asks `question` (which names what is acted on, as `account/id`) before a command
/// that cannot be undone or spends money: at a terminal the operator answers, elsewhere
/// `--yes` must have been given. `why` says what is at stake ("this spends money").
pub fn confirm(question: &str, why: &str, yes: bool) -> Result<()> {
    confirm_with(question, why, yes, std::io::stdin().is_terminal(), || {
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(answer)
    })
}

fn confirm_with(
    question: &str,
    why: &str,
    yes: bool,
    terminal: bool,
    ask: impl FnOnce() -> std::io::Result<String>,
) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !terminal {
        return Err(coded(
            EXIT_NOT_CONFIRMED,
            format!(
                "{question}: {why}; standard input is not a terminal to confirm at, so add --yes (nothing was done)"
            ),
        ));
    }
    eprint!("{question} ({why}). Proceed? [y/N] ");
    let answer = ask()?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(coded(
            EXIT_NOT_CONFIRMED,
            format!("{question}: not confirmed; nothing was done"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> std::io::Result<String> {
        panic!("asked without a terminal")
    }

    #[test]
    fn the_cli_adds_its_own_hint_to_an_engine_error_that_names_no_command() {
        let e = EngineError::NoSuchAccount("w".into());
        assert!(!e.to_string().contains("idcgate"), "{e}");
        let wrapped = anyhow::Error::from(e).context("account test");
        assert_eq!(hint(&wrapped), Some("see `idcgate account list`"));
        let zone = anyhow::Error::from(EngineError::NoSuchZone("example.com".into()));
        assert_eq!(hint(&zone), Some("run `idcgate sync` first?"));
        assert_eq!(hint(&anyhow::anyhow!("other")), None);
    }

    #[test]
    fn yes_goes_ahead_without_asking() {
        assert!(confirm_with("stop w/1", "it stops", true, false, never).is_ok());
        assert!(confirm_with("stop w/1", "it stops", true, true, never).is_ok());
    }

    #[test]
    fn no_terminal_and_no_yes_is_refused_with_its_own_code() {
        let e = confirm_with("stop server w/1", "it stops", false, false, never).unwrap_err();
        assert_eq!(exit_code(&e), EXIT_NOT_CONFIRMED);
        let msg = e.to_string();
        assert!(msg.starts_with("stop server w/1: it stops;"), "{msg}");
        assert!(msg.contains("--yes"), "{msg}");
    }

    #[test]
    fn at_a_terminal_only_yes_goes_ahead() {
        assert!(confirm_with("q", "w", false, true, || Ok("y\n".into())).is_ok());
        assert!(confirm_with("q", "w", false, true, || Ok("yes\n".into())).is_ok());
        for no in ["\n", "n\n", "nope\n", ""] {
            let e = confirm_with("q", "w", false, true, || Ok(no.into())).unwrap_err();
            assert_eq!(exit_code(&e), EXIT_NOT_CONFIRMED, "{no:?}");
        }
    }

    #[test]
    fn exit_codes_follow_the_error() {
        let gone: anyhow::Error = EngineError::Upstream(idcgate_core::Error::NotFound {
            what: "record 1".into(),
        })
        .into();
        assert_eq!(exit_code(&gone), EXIT_NOT_FOUND);
        assert_eq!(
            exit_code(&gone.context("dns rm")),
            EXIT_NOT_FOUND,
            "through context"
        );
        let lost: anyhow::Error = idcgate_core::Error::UnknownOutcome {
            vendor: "west".into(),
            action: "x".into(),
            message: "timeout".into(),
        }
        .into();
        assert_eq!(exit_code(&lost), EXIT_UNKNOWN_OUTCOME);
        let server: anyhow::Error = EngineError::NoSuchServer("9".into()).into();
        assert_eq!(exit_code(&server), EXIT_NOT_FOUND);
        // `order show|reconcile 999999` and `user remove nobody` exited 1 (QA).
        let order: anyhow::Error = EngineError::NoSuchOrder(999_999).into();
        assert_eq!(exit_code(&order), EXIT_NOT_FOUND);
        let operator: anyhow::Error =
            idcgate_console::auth::AuthError::NoSuchOperator("nobody".into()).into();
        assert_eq!(exit_code(&operator), EXIT_NOT_FOUND);
        assert_eq!(exit_code(&anyhow::anyhow!("boom")), EXIT_ERROR);
        assert_eq!(exit_code(&coded(7, "x")), 7);
    }
}
