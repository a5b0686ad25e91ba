//! Process signals, handled on the main thread with `sigwait` (no async-signal-safety puzzles):
//! `SIGHUP` reloads the configuration, `SIGUSR1` reopens the access logs (logrotate),
//! `SIGUSR2` starts a binary upgrade (`crate::upgrade`), `SIGTERM`/`SIGINT` stop gracefully. They are blocked before any worker thread starts, so
//! every thread inherits the mask and only `wait` receives them.

#![allow(unsafe_code)] // libc signal masks; each block states why it is sound

/// A signal ringlb acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Reload,
    ReopenLogs,
    Upgrade,
    Stop,
}

/// The set of handled signals.
fn handled() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set it is given; sigaddset adds valid signal numbers
    // to that initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGTERM,
            libc::SIGINT,
        ] {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Blocks the handled signals in the calling thread (and so in threads it starts later).
pub fn block() {
    let set = handled();
    // SAFETY: `set` is an initialised signal set; a null old-set pointer is allowed.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Waits for the next handled signal.
pub fn wait() -> Signal {
    let set = handled();
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is initialised and `sig` is a valid place for the result.
        let rc = unsafe { libc::sigwait(&set, &mut sig) };
        if rc != 0 {
            continue;
        }
        match sig {
            libc::SIGHUP => return Signal::Reload,
            libc::SIGUSR1 => return Signal::ReopenLogs,
            libc::SIGUSR2 => return Signal::Upgrade,
            _ => return Signal::Stop,
        }
    }
}
