//! The listening socket of pipetel's HTTP endpoints (`/metrics` and the dashboard):
//! a `tiny_http` server whose responses leave as they are written.
//!
//! `tiny_http` writes a response's headers, then its body, as separate writes. With
//! Nagle's algorithm on, the body waits until the client acknowledges the headers, and a
//! client on a kept-alive connection delays that acknowledgement (40 ms on Linux): each
//! scrape by a Prometheus server would take 46–53 ms where the endpoint's work is 3–8,
//! near a scrape timeout of 100 ms. `TCP_NODELAY` on the listening socket is inherited
//! by the connections it accepts (Linux, the BSDs, macOS), which `tiny_http` gives no
//! other way to reach.

use std::net::TcpListener;

/// A `tiny_http` server listening on `address` (`host:port`), `TCP_NODELAY` on; the
/// error of binding otherwise.
pub(crate) fn http_server(
    address: &str,
) -> Result<tiny_http::Server, Box<dyn std::error::Error + Send + Sync>> {
    tiny_http::Server::from_listener(listener(address)?, None)
}

/// A socket listening on `address`, whose connections have `TCP_NODELAY` on.
fn listener(address: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(address)?;
    // Only latency depends on it: a socket that refuses the option still serves.
    let _ = socket2::SockRef::from(&listener).set_tcp_nodelay(true);
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    #[test]
    fn the_connections_it_accepts_have_tcp_nodelay_on() {
        let listener = super::listener("127.0.0.1:0").expect("listen");
        let _client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        assert!(socket2::SockRef::from(&accepted)
            .tcp_nodelay()
            .expect("read the option"));
    }

    #[test]
    fn an_address_in_use_is_the_error() {
        let taken = super::listener("127.0.0.1:0").expect("listen");
        let address = taken.local_addr().expect("address").to_string();
        let error = super::http_server(&address).err().expect("in use");
        let kind = error
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind);
        assert_eq!(kind, Some(std::io::ErrorKind::AddrInUse), "{error}");
    }
}
