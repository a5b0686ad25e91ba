//! AFL++ main for the `chunked` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::chunked`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::chunked(data));
}
