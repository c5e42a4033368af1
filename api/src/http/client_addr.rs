//! The client's address behind a load balancer (DESIGN §4): the socket
//! peer, unless the peer is one of `STEPDOWN_TRUSTED_PROXIES`; then the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
//! Sign-in limits key on it, so a clinic behind one proxy does not share one
//! budget, and a client cannot pick its own address by sending the header.

use std::net::IpAddr;

use ipnet::IpNet;

/// The address requests are attributed to.
pub fn client_addr(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    // Right to left: each proxy appends the address it received from.
    let mut nearest = peer;
    for entry in header.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // A hop we cannot read: stop at the last one we could.
            return nearest;
        };
        nearest = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    nearest
}

/// Reads `STEPDOWN_TRUSTED_PROXIES`: addresses or CIDR blocks, comma-separated.
pub fn parse_trusted(value: &str) -> Result<Vec<IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{entry}` is not an IP address or CIDR block"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted = parse_trusted("10.0.0.0/8, 192.168.1.5").unwrap();
        let cases = [
            // (peer, X-Forwarded-For, attributed to)
            ("203.0.113.9", Some("198.51.100.1"), "203.0.113.9"), // untrusted peer: header ignored
            ("10.0.0.2", Some("198.51.100.1"), "198.51.100.1"),
            ("10.0.0.2", Some("198.51.100.1, 10.0.0.7"), "198.51.100.1"), // two proxies
            ("10.0.0.2", Some("6.6.6.6, 198.51.100.1"), "198.51.100.1"), // a forged left entry is not used
            ("192.168.1.5", Some("198.51.100.1"), "198.51.100.1"),
            ("10.0.0.2", None, "10.0.0.2"),
            ("10.0.0.2", Some("junk"), "10.0.0.2"),
            ("10.0.0.2", Some("10.0.0.3"), "10.0.0.3"),
        ];
        for (peer, header, expected) in cases {
            assert_eq!(
                client_addr(ip(peer), header, &trusted),
                ip(expected),
                "{peer} {header:?}"
            );
        }
        assert!(parse_trusted("10.0.0.0/8,nope").is_err());
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
