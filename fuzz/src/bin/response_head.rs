//! AFL++ main for the `response_head` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::response_head`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::response_head(data));
}
