//! TLS for the test receiver: a certificate authority generated in the test (rcgen), a
//! server certificate it signs for `localhost` and `127.0.0.1`, a client certificate for
//! mutual TLS, and an axum listener that speaks TLS (tokio-rustls on aws-lc-rs).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA and the certificates it signed, as PEM text.
pub struct TestPki {
    /// The CA's certificate (what `OTEL_EXPORTER_OTLP_CERTIFICATE` names).
    pub ca: String,
    /// The server's certificate, for `localhost` and `127.0.0.1`.
    pub server_certificate: String,
    /// The server's private key.
    pub server_key: String,
    /// A client certificate signed by the same CA.
    pub client_certificate: String,
    /// The client's private key.
    pub client_key: String,
}

impl TestPki {
    /// Generates a fresh CA, server and client certificate.
    pub fn generate() -> TestPki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "pipetel test CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let signed = |names: Vec<String>, common_name: &str| {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(names).expect("params");
            params
                .distinguished_name
                .push(DnType::CommonName, common_name);
            let certificate = params.signed_by(&key, &issuer).expect("certificate");
            (certificate.pem(), key.serialize_pem())
        };
        let (server_certificate, server_key) = signed(
            vec!["localhost".into(), "127.0.0.1".into()],
            "pipetel test server",
        );
        let (client_certificate, client_key) = signed(Vec::new(), "pipetel test client");
        TestPki {
            ca: ca.pem(),
            server_certificate,
            server_key,
            client_certificate,
            client_key,
        }
    }

    /// Writes the PEM files into `dir`: `ca.pem`, `client.pem`, `client.key`.
    pub fn write_client_files(&self, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
        std::fs::create_dir_all(dir).expect("dir");
        let paths = (
            dir.join("ca.pem"),
            dir.join("client.pem"),
            dir.join("client.key"),
        );
        std::fs::write(&paths.0, &self.ca).expect("write CA");
        std::fs::write(&paths.1, &self.client_certificate).expect("write client certificate");
        std::fs::write(&paths.2, &self.client_key).expect("write client key");
        paths
    }

    /// The rustls server configuration: the server certificate, and when
    /// `require_client` a client certificate signed by the CA.
    pub fn server_config(&self, require_client: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.server_certificate.as_bytes())
                .collect::<Result<_, _>>()
                .expect("server chain");
        let key = PrivateKeyDer::from_pem_slice(self.server_key.as_bytes()).expect("server key");
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(self.ca.as_bytes()) {
                roots.add(certificate.expect("CA")).expect("add CA");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder.with_single_cert(chain, key).expect("server config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// A TCP listener whose connections are TLS, for `axum::serve`.
pub struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl TlsListener {
    /// Wraps a bound listener.
    pub fn new(tcp: tokio::net::TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        TlsListener {
            tcp,
            acceptor: tokio_rustls::TlsAcceptor::from(config),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            // A failed handshake (a client without the certificate) is that client's
            // problem; the listener goes on.
            if let Ok(stream) = self.acceptor.accept(stream).await {
                return (stream, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}
