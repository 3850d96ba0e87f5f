//! Who is asking: the client's address, for rate limits and the sessions page.
//!
//! The address is the connection's peer, unless the peer is one of the trusted proxies
//! (`PAPERS_TRUSTED_PROXIES`); then it is the right-most address in `X-Forwarded-For`
//! that is not a trusted proxy. Hops left of that one were written by the client and
//! prove nothing; without trusted proxies the header is ignored altogether, so nobody
//! can pick the address they are limited under.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The proxies whose `X-Forwarded-For` is believed: a list of networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

/// An address block, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not an IP address or network (such as 10.0.0.0/8 or ::1)")]
pub struct TrustedProxiesError {
    pub entry: String,
}

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    /// Networks separated by commas or spaces.
    fn from_str(text: &str) -> Result<TrustedProxies, TrustedProxiesError> {
        text.split([',', ' ', '\t', '\n'])
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                Network::parse(entry).ok_or_else(|| TrustedProxiesError {
                    entry: entry.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, network) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}/{}", network.base, network.prefix)?;
        }
        Ok(())
    }
}

impl Network {
    fn parse(entry: &str) -> Option<Network> {
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (entry, None),
        };
        let base = canonical(address.parse().ok()?);
        let width = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        (prefix <= width).then_some(Network { base, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match (self.base, canonical(address)) {
            (IpAddr::V4(base), IpAddr::V4(address)) => same_prefix(
                u128::from(base.to_bits()) << 96,
                u128::from(address.to_bits()) << 96,
                self.prefix,
            ),
            (IpAddr::V6(base), IpAddr::V6(address)) => {
                same_prefix(base.to_bits(), address.to_bits(), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    a & mask == b & mask
}

/// IPv4 addresses written as IPv6 (`::ffff:192.0.2.1`, as dual-stack sockets report
/// them) compare as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    address.to_canonical()
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client behind `peer`: see the module doc. `None` without a peer (the
    /// router driven in-process).
    pub(crate) fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address ends the trust: the last trusted one is
            // the best answer there is.
            let Some(address) = parse_hop(hop) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        Some(client)
    }
}

/// An address as proxies write it: bare, or with a port (`192.0.2.1:4711`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(canonical)
}

/// The connection's peer, when the server was started with connection info.
pub(crate) fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("ascii"),
            );
        }
        headers
    }

    #[test]
    fn networks_parse_and_match() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7 2001:db8::/32"
            .parse()
            .expect("valid");
        assert!(proxies.contains(ip("10.1.2.3")));
        assert!(proxies.contains(ip("::ffff:10.1.2.3")));
        assert!(proxies.contains(ip("192.0.2.7")));
        assert!(!proxies.contains(ip("192.0.2.8")));
        assert!(proxies.contains(ip("2001:db8::1")));
        assert!(!proxies.contains(ip("2001:db9::1")));
        assert_eq!(
            proxies.to_string(),
            "10.0.0.0/8, 192.0.2.7/32, 2001:db8::/32"
        );
        for bad in ["10.0.0.0/33", "example.org", "10.0.0/8", "::/129"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
        let everything: TrustedProxies = "0.0.0.0/0".parse().expect("valid");
        assert!(everything.contains(ip("203.0.113.1")));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().expect("valid");
        let peer = Some(ip("10.0.0.1"));
        // The client wrote a fake first hop; the proxies appended the real one.
        let headers = forwarded(&["6.6.6.6, 198.51.100.4", "10.0.0.2"]);
        assert_eq!(proxies.client(peer, &headers), Some(ip("198.51.100.4")));
        // Untrusted peers cannot pick their address.
        assert_eq!(
            proxies.client(Some(ip("203.0.113.9")), &headers),
            Some(ip("203.0.113.9"))
        );
        // Garbage stops the walk at the last trusted hop.
        let garbage = forwarded(&["198.51.100.4, not-an-address"]);
        assert_eq!(proxies.client(peer, &garbage), Some(ip("10.0.0.1")));
        assert_eq!(
            proxies.client(peer, &forwarded(&["[2001:db8::5]:443"])),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            proxies.client(peer, &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(TrustedProxies::default().client(None, &headers), None);
    }
}
