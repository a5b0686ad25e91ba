//! Asking DNS servers (`resolvers`) for a host name's A and AAAA records: the queries over
//! UDP (TCP when an answer comes back truncated), the answers read with `simple-dns`.
//!
//! Blocking, bounded: each try gives a server [`TRY_TIMEOUT`] to answer both queries; a
//! server that fails (no answer in time, SERVFAIL, REFUSED, a refused port) passes the
//! question to the next one, and the whole list is tried [`ROUNDS`] times. An answer counts
//! only from the server asked (a connected socket), with the query's id and question, and a
//! response flag; anything else is dropped unread. Runs on the control plane's threads only.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, RCODE, TYPE};

use super::Answer;

/// How long one server gets to answer a try.
const TRY_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the whole server list is tried.
const ROUNDS: usize = 2;
/// Largest UDP answer read (RFC 1035 §4.2.1 keeps them at 512 bytes without EDNS).
const UDP_MAX: usize = 4096;

/// The record types asked, in preference order: AAAA, then A (HAProxy's `resolve-prefer
/// ipv6`, its default).
const TYPES: [TYPE; 2] = [TYPE::AAAA, TYPE::A];

/// What a server said to one query.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reply {
    /// NOERROR: the addresses (possibly none) and the smallest TTL of the records used.
    Records(Vec<IpAddr>, Option<u32>),
    /// NXDOMAIN.
    NoSuchName,
}

/// Looks `name` (without a trailing `.`; asked as an absolute name) up at `servers`: the
/// AAAA records if there are any, else the A records; the TTL is the smallest of the records
/// used (CNAMEs on the way included). An error says why no address came back.
pub(super) fn lookup(servers: &[SocketAddr], name: &str) -> Result<Answer, String> {
    let qname = Name::new(name).map_err(|e| format!("{name:?} cannot be asked: {e}"))?;
    let mut replies: [Option<Reply>; 2] = [None, None];
    let mut last_error = String::from("no DNS server to ask");
    'rounds: for _ in 0..ROUNDS {
        for &server in servers {
            match ask(server, &qname, &mut replies) {
                Ok(()) => break 'rounds,
                Err(e) => last_error = format!("{server}: {e}"),
            }
        }
    }
    combine(&replies, &last_error)
}

/// The answer from the replies gathered (AAAA first), or the error.
fn combine(replies: &[Option<Reply>; 2], last_error: &str) -> Result<Answer, String> {
    for reply in replies.iter().flatten() {
        if let Reply::Records(addrs, ttl) = reply {
            if !addrs.is_empty() {
                return Ok(Answer {
                    addrs: addrs.clone(),
                    ttl: ttl.map(|s| Duration::from_secs(u64::from(s))),
                });
            }
        }
    }
    match replies {
        [Some(_), Some(_)] if replies.contains(&Some(Reply::NoSuchName)) => {
            Err("no such name (NXDOMAIN)".to_owned())
        }
        [Some(_), Some(_)] => Err("the name has no A or AAAA records".to_owned()),
        _ => Err(last_error.to_owned()),
    }
}

/// One try at `server` for the types `replies` still lacks; `Ok` once both are in.
fn ask(server: SocketAddr, qname: &Name<'_>, replies: &mut [Option<Reply>; 2]) -> io::Result<()> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    let mut pending: Vec<(usize, u16, Vec<u8>)> = Vec::new();
    for (slot, qtype) in TYPES.iter().enumerate() {
        if replies[slot].is_none() {
            let id = random_id();
            let query = query(id, qname, *qtype)?;
            socket.send(&query)?;
            pending.push((slot, id, query));
        }
    }
    let deadline = crate::clock::now() + TRY_TIMEOUT;
    let mut buf = vec![0u8; UDP_MAX];
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(crate::clock::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
        }
        socket.set_read_timeout(Some(left))?;
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))
            }
            Err(e) => return Err(e),
        };
        let Ok(packet) = Packet::parse(&buf[..n]) else {
            continue; // not a DNS message: dropped
        };
        let Some(i) = pending
            .iter()
            .position(|(slot, id, _)| packet.id() == *id && answers(&packet, qname, TYPES[*slot]))
        else {
            continue; // not an answer to a question asked: dropped
        };
        let (slot, _, query) = pending.swap_remove(i);
        let reply = if packet.has_flags(PacketFlag::TRUNCATION) {
            let bytes = over_tcp(server, &query, deadline)?;
            let packet = Packet::parse(&bytes).map_err(invalid)?;
            if !answers(&packet, qname, TYPES[slot]) {
                return Err(invalid("the TCP answer is not for the question asked"));
            }
            read_reply(&packet, qname, TYPES[slot])?
        } else {
            read_reply(&packet, qname, TYPES[slot])?
        };
        replies[slot] = Some(reply);
    }
    Ok(())
}

/// Whether `packet` is a response whose one question is `qname`, `qtype`, class IN.
fn answers(packet: &Packet<'_>, qname: &Name<'_>, qtype: TYPE) -> bool {
    packet.has_flags(PacketFlag::RESPONSE)
        && matches!(packet.questions.as_slice(), [q] if q.qname == *qname
            && q.qtype == qtype.into()
            && q.qclass == CLASS::IN.into())
}

/// A recursive query for `qname`, `qtype`, class IN.
fn query(id: u16, qname: &Name<'_>, qtype: TYPE) -> io::Result<Vec<u8>> {
    let mut packet = Packet::new_query(id);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    (packet.questions).push(Question::new(
        qname.clone(),
        qtype.into(),
        CLASS::IN.into(),
        false,
    ));
    packet.build_bytes_vec().map_err(invalid)
}

/// The records of `qtype` for `qname` in a response, following the CNAMEs it holds from
/// `qname`; NXDOMAIN as such; any other response code is the server failing.
fn read_reply(packet: &Packet<'_>, qname: &Name<'_>, qtype: TYPE) -> io::Result<Reply> {
    match packet.rcode() {
        RCODE::NoError => {}
        RCODE::NameError => return Ok(Reply::NoSuchName),
        other => return Err(io::Error::other(format!("the server answered {other:?}"))),
    }
    let mut names: Vec<&Name<'_>> = vec![qname];
    let mut ttl: Option<u32> = None;
    // Each pass follows one more CNAME; a chain is never longer than the answers.
    for _ in 0..packet.answers.len() {
        let next = packet.answers.iter().find_map(|rr| match &rr.rdata {
            RData::CNAME(target) if names.contains(&&rr.name) && !names.contains(&&target.0) => {
                Some((&target.0, rr.ttl))
            }
            _ => None,
        });
        let Some((target, cname_ttl)) = next else {
            break;
        };
        names.push(target);
        ttl = Some(ttl.map_or(cname_ttl, |t| t.min(cname_ttl)));
    }
    let mut addrs: Vec<IpAddr> = Vec::new();
    for rr in packet.answers.iter().filter(|rr| names.contains(&&rr.name)) {
        let ip = match (&rr.rdata, qtype) {
            (RData::A(a), TYPE::A) => IpAddr::V4(Ipv4Addr::from(a.address)),
            (RData::AAAA(a), TYPE::AAAA) => IpAddr::V6(Ipv6Addr::from(a.address)),
            _ => continue,
        };
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
        ttl = Some(ttl.map_or(rr.ttl, |t| t.min(rr.ttl)));
    }
    if addrs.is_empty() {
        ttl = None; // a NODATA answer's TTL would be the zone's negative TTL: not used
    }
    Ok(Reply::Records(addrs, ttl))
}

/// The same query over TCP (RFC 1035 §4.2.2: two length bytes before each message), for a
/// truncated UDP answer; the answer's bytes.
fn over_tcp(server: SocketAddr, query: &[u8], deadline: Instant) -> io::Result<Vec<u8>> {
    let left = deadline
        .saturating_duration_since(crate::clock::now())
        .max(Duration::from_millis(100));
    let mut stream = TcpStream::connect_timeout(&server, left)?;
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))?;
    let len = u16::try_from(query.len()).map_err(invalid)?;
    let mut message = len.to_be_bytes().to_vec();
    message.extend_from_slice(query);
    stream.write_all(&message)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer)?;
    Ok(answer)
}

/// A query id no one on the path can guess from the last one (the process's random hash
/// keys; each `RandomState` differs).
fn random_id() -> u16 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish() as u16
}

fn invalid(e: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: u16, rcode: RCODE, records: &[(&str, RData<'static>, u32)]) -> Vec<u8> {
        let mut p = Packet::new_reply(id);
        *p.rcode_mut() = rcode;
        let q = Name::new_unchecked("app.test");
        p.questions
            .push(Question::new(q, TYPE::A.into(), CLASS::IN.into(), false));
        for (name, rdata, ttl) in records {
            p.answers.push(simple_dns::ResourceRecord::new(
                Name::new_unchecked(name),
                CLASS::IN,
                *ttl,
                rdata.clone(),
            ));
        }
        p.build_bytes_vec().unwrap()
    }

    fn a(ip: [u8; 4]) -> RData<'static> {
        RData::A(simple_dns::rdata::A {
            address: u32::from(Ipv4Addr::from(ip)),
        })
    }

    fn read(bytes: &[u8]) -> io::Result<Reply> {
        let packet = Packet::parse(bytes).unwrap();
        read_reply(&packet, &Name::new_unchecked("app.test"), TYPE::A)
    }

    #[test]
    fn answers_follow_cnames_and_take_the_smallest_ttl() {
        let cname = RData::CNAME(simple_dns::rdata::CNAME(Name::new_unchecked("real.test")));
        let cases: Vec<(Vec<u8>, Reply)> = vec![
            (
                reply(1, RCODE::NoError, &[("app.test", a([10, 0, 0, 1]), 30)]),
                Reply::Records(vec!["10.0.0.1".parse().unwrap()], Some(30)),
            ),
            (
                reply(
                    1,
                    RCODE::NoError,
                    &[
                        ("APP.test", cname.clone(), 60),
                        ("real.test", a([10, 0, 0, 2]), 5),
                        ("real.test", a([10, 0, 0, 3]), 9),
                        ("other.test", a([10, 0, 0, 9]), 1),
                    ],
                ),
                Reply::Records(
                    vec!["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()],
                    Some(5),
                ),
            ),
            (reply(1, RCODE::NoError, &[]), Reply::Records(vec![], None)),
            (reply(1, RCODE::NameError, &[]), Reply::NoSuchName),
        ];
        for (bytes, want) in cases {
            assert_eq!(read(&bytes).unwrap(), want);
        }
        let err = read(&reply(1, RCODE::ServerFailure, &[])).unwrap_err();
        assert!(err.to_string().contains("ServerFailure"), "{err}");
    }

    #[test]
    fn aaaa_records_are_preferred_then_a_then_the_reason() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "fd00::1".parse().unwrap();
        let recs = |ip: Option<IpAddr>, ttl| Some(Reply::Records(ip.into_iter().collect(), ttl));
        let both = combine(&[recs(Some(v6), Some(7)), recs(Some(v4), Some(3))], "x").unwrap();
        assert_eq!(
            (both.addrs, both.ttl),
            (vec![v6], Some(Duration::from_secs(7)))
        );
        let only_a = combine(&[recs(None, None), recs(Some(v4), Some(3))], "x").unwrap();
        assert_eq!(only_a.addrs, vec![v4]);
        let a_without_aaaa_answer = combine(&[None, recs(Some(v4), None)], "x").unwrap();
        assert_eq!(a_without_aaaa_answer.addrs, vec![v4]);
        let nx = Some(Reply::NoSuchName);
        assert!(combine(&[nx.clone(), nx], "x")
            .unwrap_err()
            .contains("NXDOMAIN"));
        let empty = combine(&[recs(None, None), recs(None, None)], "x").unwrap_err();
        assert!(empty.contains("no A or AAAA"), "{empty}");
        assert_eq!(
            combine(&[None, None], "timed out").unwrap_err(),
            "timed out"
        );
    }

    #[test]
    fn only_responses_to_the_question_asked_count() {
        let bytes = reply(7, RCODE::NoError, &[("app.test", a([10, 0, 0, 1]), 30)]);
        let packet = Packet::parse(&bytes).unwrap();
        assert!(answers(&packet, &Name::new_unchecked("app.test"), TYPE::A));
        assert!(answers(&packet, &Name::new_unchecked("APP.TEST"), TYPE::A));
        assert!(!answers(
            &packet,
            &Name::new_unchecked("app.test"),
            TYPE::AAAA
        ));
        assert!(!answers(
            &packet,
            &Name::new_unchecked("other.test"),
            TYPE::A
        ));
        let q = query(7, &Name::new_unchecked("app.test"), TYPE::A).unwrap();
        let as_query = Packet::parse(&q).unwrap();
        assert!(
            !answers(&as_query, &Name::new_unchecked("app.test"), TYPE::A),
            "a query"
        );
    }
}
