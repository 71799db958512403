//! The addresses other devices can reach the server at, for the start-up message.
//!
//! Bound to `0.0.0.0`, the server is reachable at every IPv4 address of the machine; bound
//! to `::`, also at every IPv6 one (Linux sockets are dual-stack by default). Loopback
//! addresses reach only this machine, and IPv6 link-local ones (`fe80::/10`) need a zone
//! (`%eth0`) that browsers do not accept in URLs, so neither is listed. Interfaces that are
//! down are skipped. Bound to one address, the server is reachable there only: no list.

use std::net::{IpAddr, SocketAddr};

use if_addrs::IfOperStatus;

/// The non-loopback interface addresses a server bound to `bind` answers on, IPv4 first.
pub(crate) fn lan(bind: IpAddr) -> Vec<IpAddr> {
    if !bind.is_unspecified() {
        return Vec::new();
    }
    // No list rather than no server: the list is a convenience.
    let Ok(interfaces) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    let mut out: Vec<IpAddr> = interfaces
        .iter()
        .filter(|i| {
            !matches!(
                i.oper_status,
                IfOperStatus::Down | IfOperStatus::LowerLayerDown
            )
        })
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback() && !is_v6_link_local(ip))
        .filter(|ip| ip.is_ipv4() || bind.is_ipv6())
        .collect();
    out.sort_by_key(|ip| ip.is_ipv6());
    out.dedup();
    out
}

fn is_v6_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// `scheme://host:port/`, with IPv6 hosts in brackets.
pub(crate) fn url(scheme: &str, addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{}/", addr.port()),
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{}/", addr.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_bracket_ipv6() {
        let v6: SocketAddr = "[fd00::2]:8443".parse().unwrap();
        assert_eq!(url("https", v6), "https://[fd00::2]:8443/");
        let v4: SocketAddr = "192.0.2.2:80".parse().unwrap();
        assert_eq!(url("http", v4), "http://192.0.2.2:80/");
    }

    #[test]
    fn only_wildcard_binds_list_addresses_and_never_loopback() {
        assert!(lan("127.0.0.1".parse().unwrap()).is_empty());
        assert!(lan("192.0.2.2".parse().unwrap()).is_empty());
        let v4 = lan("0.0.0.0".parse().unwrap());
        assert!(
            v4.iter().all(|ip| ip.is_ipv4() && !ip.is_loopback()),
            "{v4:?}"
        );
        let all = lan("::".parse().unwrap());
        assert!(all
            .iter()
            .all(|ip| !ip.is_loopback() && !is_v6_link_local(ip)));
        assert!(v4.iter().all(|ip| all.contains(ip)));
        let first_v6 = all.iter().position(IpAddr::is_ipv6).unwrap_or(all.len());
        assert!(all[first_v6..].iter().all(IpAddr::is_ipv6), "{all:?}");
    }
}
