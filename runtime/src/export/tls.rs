//! TLS to the collector for an `https://` endpoint, over either protocol, on rustls with
//! the aws-lc-rs provider (rustls's default): the public web roots plus the CA the environment names
//! (`OTEL_EXPORTER_OTLP_CERTIFICATE`), and the client identity when one is given. gRPC
//! gets tonic's TLS settings; HTTP/protobuf gets a blocking reqwest client built here
//! (the exporter's own client has no TLS).

#[cfg(all(feature = "otlp-http", feature = "tls"))]
use std::sync::Arc;

#[cfg(all(feature = "otlp-grpc", feature = "tls"))]
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
#[cfg(all(feature = "otlp-http", feature = "tls"))]
use rustls_pki_types::pem::PemObject;
#[cfg(all(feature = "otlp-http", feature = "tls"))]
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::env::{is_https, SignalExport};

/// Why an `https://` target cannot be exported: pipetel was built without `tls`.
#[cfg(all(
    not(feature = "tls"),
    any(feature = "otlp-grpc", feature = "otlp-http")
))]
fn tls_missing(target: &SignalExport) -> String {
    format!(
        "{} is https://, and pipetel was built without its `tls` feature ({} export is off)",
        target.describe(),
        target.signal.name()
    )
}

/// The gRPC channel's TLS settings for an `https://` target (an error without the `tls`
/// feature); `None` for `http://`.
#[cfg(all(feature = "otlp-grpc", not(feature = "tls")))]
pub(crate) fn grpc_config(target: &SignalExport) -> Result<Option<()>, String> {
    match is_https(&target.endpoint) {
        true => Err(tls_missing(target)),
        false => Ok(None),
    }
}

/// The gRPC channel's TLS settings for an `https://` target; `None` for `http://`.
#[cfg(all(feature = "otlp-grpc", feature = "tls"))]
pub(crate) fn grpc_config(target: &SignalExport) -> Result<Option<ClientTlsConfig>, String> {
    if !is_https(&target.endpoint) {
        return Ok(None);
    }
    let mut config = ClientTlsConfig::new().with_webpki_roots();
    if let Some(ca) = &target.tls.ca {
        config = config.ca_certificate(Certificate::from_pem(&ca.pem));
    }
    if let Some((certificate, key)) = &target.tls.client {
        config = config.identity(Identity::from_pem(&certificate.pem, &key.pem));
    }
    Ok(Some(config))
}

/// The HTTP client for an `https://` target: an error without the `tls` feature.
#[cfg(all(feature = "otlp-http", not(feature = "tls")))]
pub(crate) fn http_client(
    target: &SignalExport,
) -> Result<Option<reqwest::blocking::Client>, String> {
    match is_https(&target.endpoint) {
        true => Err(tls_missing(target)),
        false => Ok(None),
    }
}

/// The HTTP client for an `https://` target (`None` for `http://`), with the target's
/// export timeout.
#[cfg(all(feature = "otlp-http", feature = "tls"))]
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
