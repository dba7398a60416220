//! TLS to the collector for an `https://` endpoint, over either protocol, on rustls with
//! the aws-lc-rs provider (rustls's default): the public web roots plus the CA the environment names
//! (`OTEL_EXPORTER_OTLP_CERTIFICATE`), and the client identity when one is given. gRPC
//! gets tonic's TLS settings; HTTP/protobuf gets a blocking reqwest client built here
//! (the exporter's own client has no TLS).

use std::sync::Arc;

use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::env::{is_https, SignalExport};

/// The gRPC channel's TLS settings for an `https://` target; `None` for `http://`.
pub(crate) fn grpc_config(target: &SignalExport) -> Option<ClientTlsConfig> {
    if !is_https(&target.endpoint) {
        return None;
    }
    let mut config = ClientTlsConfig::new().with_webpki_roots();
    if let Some(ca) = &target.tls.ca {
        config = config.ca_certificate(Certificate::from_pem(&ca.pem));
    }
    if let Some((certificate, key)) = &target.tls.client {
        config = config.identity(Identity::from_pem(&certificate.pem, &key.pem));
    }
    Some(config)
}

/// The HTTP client for an `https://` target (`None` for `http://`), with the target's
/// export timeout.
pub(crate) fn http_client(
    target: &SignalExport,
) -> Result<Option<reqwest::blocking::Client>, String> {
    if !is_https(&target.endpoint) {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(ca) = &target.tls.ca {
        for certificate in CertificateDer::pem_slice_iter(&ca.pem) {
            let added = certificate
                .map_err(|error| error.to_string())
                .and_then(|certificate| roots.add(certificate).map_err(|e| e.to_string()));
            if let Err(error) = added {
                return Err(format!("{}={:?}: {error}", ca.variable, ca.path));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots);
    let config = match &target.tls.client {
        None => builder.with_no_client_auth(),
        Some((certificate, key)) => {
            let chain = CertificateDer::pem_slice_iter(&certificate.pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| format!("{}: {error}", certificate.variable))?;
            let key = PrivateKeyDer::from_pem_slice(&key.pem)
                .map_err(|_| format!("{}: holds no usable private key", key.variable))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| format!("the client certificate and key: {error}"))?
        }
    };
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(target.timeout)
        .build()
        .map(Some)
        .map_err(|error| format!("cannot build the HTTPS client: {error}"))
}
