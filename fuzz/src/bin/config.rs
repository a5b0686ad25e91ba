//! AFL++ main for the `config` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::config`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::config(data));
}
