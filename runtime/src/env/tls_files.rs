//! The PEM files the environment names for TLS to the collector:
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` (the CA that signed the collector's certificate,
//! trusted on top of the public roots), and `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` +
//! `OTEL_EXPORTER_OTLP_CLIENT_KEY` (client authentication) — each also per signal
//! (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, …), which wins. Read and checked once, at
//! `init`, only for an `https://` endpoint; a file that cannot be read or holds no PEM
//! gives one warning naming the variable and the path.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// One PEM file named by a variable. Its `Debug` output shows the variable and the path,
/// never the contents.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PemFile {
    /// The variable that named the file.
    pub(crate) variable: String,
    /// The path, as written there.
    pub(crate) path: String,
    /// The file's contents.
    pub(crate) pem: Vec<u8>,
}

impl std::fmt::Debug for PemFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemFile")
            .field("variable", &self.variable)
            .field("path", &self.path)
            .field("pem", &format_args!("<{} bytes>", self.pem.len()))
            .finish()
    }
}

/// The TLS files of one signal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// An extra CA to trust (`…_CERTIFICATE`).
    pub(crate) ca: Option<PemFile>,
    /// The client's certificate chain and key (`…_CLIENT_CERTIFICATE`, `…_CLIENT_KEY`).
    pub(crate) client: Option<(PemFile, PemFile)>,
}

/// What a file must hold.
#[derive(Clone, Copy)]
enum Holds {
    Certificates,
    PrivateKey,
}

/// Reads the TLS files for the signal whose variables are `OTEL_EXPORTER_OTLP_{upper}_*`;
/// returns them and the warnings.
pub(crate) fn read(
    upper: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
) -> (TlsFiles, Vec<String>) {
    let mut warnings = Vec::new();
    // Ok(None): not set; Err: set but unusable (warned).
    let mut file = |option: &str, holds: Holds| -> Result<Option<PemFile>, ()> {
        let variable = [
            format!("OTEL_EXPORTER_OTLP_{upper}_{option}"),
            format!("OTEL_EXPORTER_OTLP_{option}"),
        ]
        .into_iter()
        .find(|name| lookup(name).is_some_and(|value| !value.trim().is_empty()));
        let Some(variable) = variable else {
            return Ok(None);
        };
        let path = lookup(&variable).unwrap_or_default();
        match read_file(path.trim())
            .map_err(|error| error.to_string())
            .and_then(|pem| check(&pem, holds).map(|()| pem))
        {
            Ok(pem) => Ok(Some(PemFile {
                variable,
                path,
                pem,
            })),
            Err(problem) => {
                warnings.push(format!(
                    "{variable}={path:?} {problem}; TLS goes on without it"
                ));
                Err(())
            }
        }
    };
    let ca = file("CERTIFICATE", Holds::Certificates).ok().flatten();
    let certificate = file("CLIENT_CERTIFICATE", Holds::Certificates);
    let key = file("CLIENT_KEY", Holds::PrivateKey);
    // A file that was set but bad has had its warning; its partner stays quiet.
    let client = match (certificate, key) {
        (Ok(Some(certificate)), Ok(Some(key))) => Some((certificate, key)),
        (Ok(Some(only)), Ok(None)) | (Ok(None), Ok(Some(only))) => {
            let missing = if only.variable.ends_with("CLIENT_KEY") {
                "CLIENT_CERTIFICATE"
            } else {
                "CLIENT_KEY"
            };
            warnings.push(format!(
                "{}={:?} needs OTEL_EXPORTER_OTLP_{missing} as well; no client authentication",
                only.variable, only.path
            ));
            None
        }
        _ => None,
    };
    (TlsFiles { ca, client }, warnings)
}

/// Whether `pem` holds what it must: at least one certificate, or one private key.
fn check(pem: &[u8], holds: Holds) -> Result<(), String> {
    match holds {
        Holds::Certificates => {
            let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
            match certificates {
                Ok(certificates) if !certificates.is_empty() => Ok(()),
                Ok(_) => Err("holds no PEM certificate".into()),
                Err(error) => Err(format!("is not a valid PEM certificate file ({error})")),
            }
        }
        Holds::PrivateKey => PrivateKeyDer::from_pem_slice(pem)
            .map(drop)
            .map_err(|_| "holds no PEM private key".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::read;

    const CERTIFICATE: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUB6a0\n-----END CERTIFICATE-----\n";

    fn files(vars: &[(&str, &str)], files: &[(&str, &str)]) -> (super::TlsFiles, Vec<String>) {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let files: HashMap<String, Vec<u8>> = files
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        read("TRACES", &|name| vars.get(name).cloned(), &|path| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        })
    }

    #[test]
    fn the_signal_variable_wins_and_contents_never_show_in_debug() {
        let (tls, warnings) = files(
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic.pem"),
                ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces.pem"),
            ],
            &[("/traces.pem", CERTIFICATE)],
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let ca = tls.ca.expect("the traces CA");
        assert_eq!(ca.variable, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE");
        assert!(!format!("{ca:?}").contains("MIIB"), "{ca:?}");
    }

    #[test]
    fn unreadable_files_and_files_without_pem_are_named() {
        let (tls, warnings) = files(
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/missing.pem"),
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/cert.pem"),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/key.pem"),
            ],
            &[("/cert.pem", CERTIFICATE), ("/key.pem", "not a key")],
        );
        assert_eq!(tls, super::TlsFiles::default());
        assert_eq!(warnings.len(), 2, "one per bad file: {warnings:?}");
        assert!(warnings[0].starts_with("OTEL_EXPORTER_OTLP_CERTIFICATE=\"/missing.pem\" "));
        assert!(warnings[1]
            .contains("OTEL_EXPORTER_OTLP_CLIENT_KEY=\"/key.pem\" holds no PEM private key"));
        let (tls, warnings) = files(
            &[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/cert.pem")],
            &[("/cert.pem", CERTIFICATE)],
        );
        assert_eq!(tls.client, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("needs OTEL_EXPORTER_OTLP_CLIENT_KEY as well"));
    }
}
