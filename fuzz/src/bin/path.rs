//! AFL++ main for the `path` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::path`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::path(data));
}
