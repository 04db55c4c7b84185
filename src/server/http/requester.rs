//! Who sent a request and over which scheme. `X-Forwarded-For` and `X-Forwarded-Proto`
//! are believed only from `server.trusted_proxies`; from anyone else they are ignored,
//! since any client can send them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::server::http::error::ApiError;
use crate::server::ops::state::AppState;

/// Who sent a request, as far as this server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester {
    /// The requester's address: the TCP peer, or what trusted proxies say it was.
    pub address: IpAddr,
    /// Whether the client's request came over HTTPS (to us or to a trusted proxy).
    pub https: bool,
}

impl Requester {
    /// Works out the requester from the TCP peer and the headers. Without a peer (the router
    /// used without a socket), the address is unspecified.
    pub fn from_parts(
        headers: &HeaderMap,
        scheme_is_https: bool,
        peer: Option<IpAddr>,
        trusted_proxies: &[IpNet],
    ) -> Self {
        // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: one client, one
        // address, whichever way it arrived or a proxy wrote it.
        let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| {
            peer.to_canonical()
        });
        let trusted = |address: &IpAddr| {
            trusted_proxies.iter().any(|net| {
                net.contains(address)
                    || matches!(address, IpAddr::V4(v4) if net.contains(&IpAddr::V6(v4.to_ipv6_mapped())))
            })
        };
        if !trusted(&peer) {
            if forwarded_https(headers) {
                warn_once_of_an_untrusted_https_claim(peer);
            }
            return Self {
                address: peer,
                https: scheme_is_https,
            };
        }
        Self {
            address: forwarded_for(headers, &trusted).unwrap_or(peer),
            https: scheme_is_https || forwarded_https(headers),
        }
    }
}

/// The rightmost `X-Forwarded-For` address that is not itself a trusted proxy: every
/// proxy appends the address it received the request from, so entries to its left were
/// written by whoever is further out and may be forged.
fn forwarded_for(headers: &HeaderMap, trusted: &impl Fn(&IpAddr) -> bool) -> Option<IpAddr> {
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut requester = None;
    for hop in hops.iter().rev() {
        let address = parse_hop(hop)?;
        requester = Some(address);
        if !trusted(&address) {
            break;
        }
    }
    requester
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
/// IPv4-mapped IPv6 addresses are read as the IPv4 address they carry.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let address = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))?;
    Some(address.to_canonical())
}

/// A TLS proxy missing from `trusted_proxies` is easy to miss: its requests are served,
/// only without `Secure` cookies or HSTS. Said once per run (a client may send the header
/// on every request).
fn warn_once_of_an_untrusted_https_claim(peer: IpAddr) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            %peer,
            "a request says X-Forwarded-Proto: https, but its peer is not in server.trusted_proxies: \
             ignored, so its cookies are not Secure and it gets no HSTS; if this is your TLS proxy, \
             list it in server.trusted_proxies (said once per run)"
        );
    }
}

fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

impl FromRequestParts<AppState> for Requester {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(requester_of(parts, &state.settings.server.trusted_proxies))
    }
}

/// The requester of a request whose peer the server loop recorded as `ConnectInfo`.
pub(crate) fn requester_of(parts: &Parts, trusted_proxies: &[IpNet]) -> Requester {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    Requester::from_parts(
        &parts.headers,
        parts.uri.scheme_str() == Some("https"),
        peer,
        trusted_proxies,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("net")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let forged = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-proto", "https"),
        ]);
        let requester = Requester::from_parts(&forged, false, Some(ip("203.0.113.9")), &[]);
        assert_eq!(requester.address, ip("203.0.113.9"));
        assert!(!requester.https);
        let requester = Requester::from_parts(
            &forged,
            false,
            Some(ip("203.0.113.9")),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(
            requester.address,
            ip("203.0.113.9"),
            "not one of our proxies"
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_the_scheme() {
        let forwarded = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let requester = Requester::from_parts(
            &forwarded,
            false,
            Some(ip("10.0.0.1")),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(
            requester.address,
            ip("198.51.100.7"),
            "the rightmost address that is not a proxy; 6.6.6.6 may be forged"
        );
        assert!(requester.https);
    }

    #[test]
    fn odd_forwarded_values_fall_back_to_the_peer_or_the_last_good_hop() {
        let trusted = nets(&["127.0.0.1/32", "::1/128"]);
        let peer = Some(ip("127.0.0.1"));
        for (value, expected) in [
            ("garbage", "127.0.0.1"),
            ("", "127.0.0.1"),
            ("198.51.100.7:4711", "198.51.100.7"),
            ("[2001:db8::1]:80", "2001:db8::1"),
            ("nonsense, 198.51.100.7", "198.51.100.7"),
            ("198.51.100.7, nonsense", "127.0.0.1"),
            ("127.0.0.1, ::1", "127.0.0.1"),
        ] {
            let requester = Requester::from_parts(
                &headers(&[("x-forwarded-for", value)]),
                false,
                peer,
                &trusted,
            );
            assert_eq!(requester.address, ip(expected), "{value:?}");
        }
    }

    #[test]
    fn several_forwarded_for_headers_read_as_one_list() {
        let forwarded = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-for", "10.0.0.3"),
        ]);
        let requester = Requester::from_parts(
            &forwarded,
            false,
            Some(ip("10.0.0.1")),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(requester.address, ip("198.51.100.7"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_the_ipv4_addresses_they_carry() {
        let forwarded = headers(&[
            ("x-forwarded-for", "::ffff:198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let mapped_peer = Some(ip("::ffff:127.0.0.1"));
        for trusted in [nets(&["127.0.0.1/32"]), nets(&["::ffff:127.0.0.1/128"])] {
            let requester = Requester::from_parts(&forwarded, false, mapped_peer, &trusted);
            assert_eq!(requester.address, ip("198.51.100.7"), "{trusted:?}");
            assert!(requester.https, "{trusted:?}");
        }
        let direct = Requester::from_parts(&HeaderMap::new(), false, mapped_peer, &[]);
        assert_eq!(
            direct.address,
            ip("127.0.0.1"),
            "logged and grouped as IPv4"
        );
    }
}
