//! AFL++ main for the `sticky` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::sticky`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::sticky(data));
}
