//! What a TLS listener with `ssl_headers = true` tells members about the client's TLS
//! connection: `X-SSL-*` request headers carrying httpd mod_ssl's variables in mod_ssl's
//! forms, which is what Tomcat's `SSLValve` reads (README "TLS facts for the application").
//!
//! | header                    | mod_ssl variable        | value                           |
//! |---------------------------|-------------------------|---------------------------------|
//! | `X-SSL-Protocol`          | `SSL_PROTOCOL`          | `TLSv1.2`, `TLSv1.3`            |
//! | `X-SSL-Cipher`            | `SSL_CIPHER`            | OpenSSL name of the suite       |
//! | `X-SSL-Cipher-Usekeysize` | `SSL_CIPHER_USEKEYSIZE` | the cipher's key size in bits   |
//! | `X-SSL-Client-Cert`       | `SSL_CLIENT_CERT`       | the client's certificate, PEM   |
//!
//! `X-SSL-Client-Cert` is sent only when the client presented a certificate (a listener
//! with `client_ca`), and as mod_headers writes `%{SSL_CLIENT_CERT}s`: the PEM with each line
//! break replaced by a space, since a header value holds no line breaks. There is no
//! `X-SSL-Session-Id`: ringlb resumes sessions by tickets and keeps no session IDs (TLS 1.3
//! has none at all), so there is no stable ID to give.
//!
//! The values are rendered once per connection, right after its handshake
//! ([`TlsFacts::of`]); each request borrows them ([`TlsFacts::push_fields`]) and allocates
//! nothing. Whatever a client sends under these names is never passed on
//! (`http::rewrite::is_tls_fact_field`).

use rustls::{CipherSuite, ProtocolVersion, ServerConnection};

/// The header names, in the order they are written.
pub const PROTOCOL: &[u8] = b"X-SSL-Protocol";
pub const CIPHER: &[u8] = b"X-SSL-Cipher";
pub const KEY_SIZE: &[u8] = b"X-SSL-Cipher-Usekeysize";
pub const CLIENT_CERT: &[u8] = b"X-SSL-Client-Cert";

/// One connection's rendered `X-SSL-*` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFacts {
    protocol: &'static str,
    cipher: &'static str,
    /// `None` for a suite missing from [`cipher_name`]'s table.
    key_bits: Option<&'static str>,
    /// [`pem_spaced`] of the client's end-entity certificate, if it presented one.
    client_cert: Option<Box<[u8]>>,
    /// The same certificate as PEM with line breaks (for AJP members).
    client_pem: Option<Box<[u8]>>,
}

impl TlsFacts {
    /// The facts of `conn` after its handshake. Allocates only for a client certificate.
    pub fn of(conn: &ServerConnection) -> TlsFacts {
        let protocol = match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        let suite = conn.negotiated_cipher_suite().map(|s| s.suite());
        let named = suite.and_then(cipher_name);
        let cipher = match (named, suite) {
            (Some((name, _)), _) => name,
            (None, Some(s)) => s.as_str().unwrap_or("unknown"),
            (None, None) => "unknown",
        };
        let leaf = (conn.peer_certificates()).and_then(|chain| chain.first());
        TlsFacts {
            protocol,
            cipher,
            key_bits: named.map(|(_, bits)| bits),
            client_cert: leaf.map(|c| pem_spaced(c.as_ref()).into_boxed_slice()),
            client_pem: leaf.map(|c| pem_with(c.as_ref(), b'\n').into_boxed_slice()),
        }
    }

    /// `TLSv1.3`, `TLSv1.2` (or `unknown`).
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// OpenSSL's name for the cipher suite.
    pub fn cipher(&self) -> &'static str {
        self.cipher
    }

    /// The suite's key size in bits, when known.
    pub fn key_bits(&self) -> Option<u16> {
        self.key_bits.and_then(|b| b.parse().ok())
    }

    /// The client's end-entity certificate as PEM with line breaks, if it presented one.
    pub fn client_pem(&self) -> Option<&[u8]> {
        self.client_pem.as_deref()
    }

    /// Appends the fields to add to a request to `out`, in the module doc's order: protocol
    /// and cipher always, the key size and the client certificate when known.
    pub fn push_fields<'a>(&'a self, out: &mut impl Extend<(&'a [u8], &'a [u8])>) {
        out.extend([
            (PROTOCOL, self.protocol.as_bytes()),
            (CIPHER, self.cipher.as_bytes()),
        ]);
        if let Some(bits) = self.key_bits {
            out.extend([(KEY_SIZE, bits.as_bytes())]);
        }
        if let Some(cert) = &self.client_cert {
            out.extend([(CLIENT_CERT, &cert[..])]);
        }
    }
}

/// OpenSSL's name for a suite (mod_ssl's `SSL_CIPHER`) and its key size in bits
/// (`SSL_CIPHER_USEKEYSIZE`), for every suite rustls's `ring` provider offers. TLS 1.3
/// suites keep their RFC 8446 names, as OpenSSL does.
pub fn cipher_name(suite: CipherSuite) -> Option<(&'static str, &'static str)> {
    use CipherSuite as S;
    Some(match suite {
        S::TLS13_AES_128_GCM_SHA256 => ("TLS_AES_128_GCM_SHA256", "128"),
        S::TLS13_AES_256_GCM_SHA384 => ("TLS_AES_256_GCM_SHA384", "256"),
        S::TLS13_CHACHA20_POLY1305_SHA256 => ("TLS_CHACHA20_POLY1305_SHA256", "256"),
        S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-ECDSA-AES128-GCM-SHA256", "128"),
        S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-ECDSA-AES256-GCM-SHA384", "256"),
        S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            ("ECDHE-ECDSA-CHACHA20-POLY1305", "256")
        }
        S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-RSA-AES128-GCM-SHA256", "128"),
        S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-RSA-AES256-GCM-SHA384", "256"),
        S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => ("ECDHE-RSA-CHACHA20-POLY1305", "256"),
        _ => return None,
    })
}

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----";
/// Base64 characters per PEM line (RFC 7468).
const PEM_LINE: usize = 64;

/// A certificate's DER as PEM with every line break a space, as mod_headers writes
/// `%{SSL_CLIENT_CERT}s`: `-----BEGIN CERTIFICATE----- MIIB... ... -----END CERTIFICATE-----`
/// (64 base64 characters per line). Tomcat's `SSLValve` reads this form (older versions turn
/// the spaces back into line breaks, newer ones let the PEM decoder skip them).
pub fn pem_spaced(der: &[u8]) -> Vec<u8> {
    pem_with(der, b' ')
}

/// A certificate's DER as PEM with `sep` for every line break (and none at the end).
fn pem_with(der: &[u8], sep: u8) -> Vec<u8> {
    let encoded = der.len().div_ceil(3) * 4;
    let mut out = Vec::with_capacity(PEM_BEGIN.len() + PEM_END.len() + encoded * 65 / 64 + 2);
    out.extend_from_slice(PEM_BEGIN);
    for (i, c) in base64(der).enumerate() {
        if i % PEM_LINE == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out.push(sep);
    out.extend_from_slice(PEM_END);
    out
}

/// Standard base64 (RFC 4648 section 4) with `=` padding, one character at a time.
fn base64(data: &[u8]) -> impl Iterator<Item = u8> + '_ {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    data.chunks(3).flat_map(|chunk| {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let sextet = |shift: u32| ALPHABET[(n >> shift & 63) as usize];
        [
            sextet(18),
            sextet(12),
            if chunk.len() > 1 { sextet(6) } else { b'=' },
            if chunk.len() > 2 { sextet(0) } else { b'=' },
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let got: Vec<u8> = base64(input.as_bytes()).collect();
            assert_eq!(got, want.as_bytes(), "{input:?}");
        }
        let all: Vec<u8> = (0..=255).collect();
        let text: Vec<u8> = base64(&all).collect();
        assert_eq!(crate::admin::auth::base64_decode(&text), Some(all));
    }

    #[test]
    fn pem_spaced_breaks_lines_at_64_with_spaces() {
        let der: Vec<u8> = (0..100u8).collect();
        let pem = String::from_utf8(pem_spaced(&der)).unwrap_or_default();
        let words: Vec<&str> = pem.split(' ').collect();
        // BEGIN is two words ("-----BEGIN", "CERTIFICATE-----"), so is END.
        assert_eq!(words[..2], ["-----BEGIN", "CERTIFICATE-----"]);
        assert_eq!(words[words.len() - 2..], ["-----END", "CERTIFICATE-----"]);
        let body = &words[2..words.len() - 2];
        assert_eq!(body.len(), 3, "136 characters: 64 + 64 + 8");
        assert_eq!((body[0].len(), body[1].len(), body[2].len()), (64, 64, 8));
        assert!(!pem.contains('\n') && !pem.contains("  "));
        // Spaces back to line breaks: ordinary PEM, the same DER.
        let restored = pem
            .replace(' ', "\n")
            .replace("-----BEGIN\n", "-----BEGIN ");
        let restored = restored.replace("-----END\n", "-----END ");
        use rustls_pki_types::pem::PemObject;
        let parsed = rustls_pki_types::CertificateDer::from_pem_slice(restored.as_bytes());
        assert_eq!(parsed.map(|c| c.to_vec()).ok(), Some(der));
    }

    #[test]
    fn every_ring_suite_has_an_openssl_name() {
        for suite in rustls::crypto::ring::ALL_CIPHER_SUITES {
            let (name, bits) = cipher_name(suite.suite()).unwrap_or_default();
            assert!(!name.is_empty(), "{:?} has no name", suite.suite());
            assert!(bits == "128" || bits == "256", "{:?}", suite.suite());
        }
        assert_eq!(
            cipher_name(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
            Some(("ECDHE-ECDSA-AES128-GCM-SHA256", "128"))
        );
        assert_eq!(
            cipher_name(CipherSuite::TLS13_AES_128_GCM_SHA256),
            Some(("TLS_AES_128_GCM_SHA256", "128"))
        );
        assert_eq!(cipher_name(CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA), None);
    }

    #[test]
    fn fields_skip_what_is_absent() {
        let facts = TlsFacts {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_128_GCM_SHA256",
            key_bits: Some("128"),
            client_cert: None,
            client_pem: None,
        };
        let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
        facts.push_fields(&mut fields);
        assert_eq!(
            fields,
            [
                (PROTOCOL, b"TLSv1.3".as_slice()),
                (CIPHER, b"TLS_AES_128_GCM_SHA256".as_slice()),
                (KEY_SIZE, b"128".as_slice()),
            ]
        );
        let with_cert = TlsFacts {
            key_bits: None,
            client_cert: Some(b"PEM".to_vec().into_boxed_slice()),
            ..facts
        };
        let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
        with_cert.push_fields(&mut fields);
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[2], (CLIENT_CERT, b"PEM".as_slice()));
    }
}
