//! TLS for every destination, through rustls (ring): which servers to trust
//! and which certificate to present.
//!
//! Trust: the system's roots (`/etc/ssl/certs` and friends, read by
//! rustls-native-certs), falling back to the bundled Mozilla roots
//! (webpki-roots) when the system has none, as in a `FROM scratch` image; plus
//! a custom CA file when given. mTLS: a client certificate chain and key in
//! PEM. Skipping verification exists only behind an explicit flag and is
//! announced with a warning at start.
//!
//! One [`rustls::ClientConfig`] serves reqwest (HTTP exporters) and the
//! hyper-rustls connector under tonic (gRPC), so the rules are the same for
//! every protocol.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// TLS settings of one destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of extra CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    /// PEM file of the client certificate chain (mTLS).
    pub client_cert: Option<PathBuf>,
    /// PEM file of the client's private key (mTLS).
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate. Dangerous; explicit flag only.
    pub insecure_skip_verify: bool,
}

/// Why TLS could not be set up; each names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path} holds no PEM {expected}")]
    Empty {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
    },
    #[error("{what} {path} is not valid PEM: {detail}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("a client certificate needs a client key and the other way round (got only the {0})")]
    HalfPair(&'static str),
    #[error("the client certificate and key do not go together: {0}")]
    Identity(rustls::Error),
    #[error("cannot set up TLS: {0}")]
    Config(rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration; `alpn` lists the protocols to offer
/// (`h2` for gRPC, `h2` and `http/1.1` for HTTP).
pub fn client_config(options: &TlsOptions, alpn: &[&[u8]]) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?;
    let builder = if options.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider())))
    } else {
        builder.with_root_certificates(roots(options.ca_file.as_deref())?)
    };
    let mut config = match (&options.client_cert, &options.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "client certificate")?;
            let key = private_key(key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(TlsError::Identity)?
        }
        (Some(_), None) => return Err(TlsError::HalfPair("certificate")),
        (None, Some(_)) => return Err(TlsError::HalfPair("key")),
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = store.add(cert);
    }
    if store.is_empty() {
        // No system roots (a scratch image): the bundled Mozilla set.
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        for cert in certificates(path, "CA file")? {
            store.add(cert).map_err(|e| TlsError::Pem {
                what: "CA file",
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        }
    }
    Ok(store)
}

/// PEM files (a CA bundle is a few hundred KiB) are read up to this size,
/// and only when they are regular files: a FIFO or a device named here must
/// not block or fill memory (issue 13).
pub const MAX_PEM_FILE: u64 = 4 * 1024 * 1024;

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    super::secret::read_small_file(path, MAX_PEM_FILE).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn certificates(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path, what)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.to_path_buf(),
            expected: "certificate",
        });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path, "client key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Empty {
            what: "client key",
            path: path.to_path_buf(),
            expected: "private key",
        },
        other => TlsError::Pem {
            what: "client key",
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    })
}

/// `--tls-insecure-skip-verify`: accepts every certificate but still checks
/// handshake signatures, so the session is encrypted, just not authenticated.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn defaults_trust_some_roots() {
        let config = client_config(&TlsOptions::default(), &[b"h2"]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn a_ca_file_and_a_client_identity_load() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let client = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
        let options = TlsOptions {
            ca_file: Some(write(dir.path(), "ca.pem", &ca.cert.pem())),
            client_cert: Some(write(dir.path(), "client.pem", &client.cert.pem())),
            client_key: Some(write(
                dir.path(),
                "client.key",
                &client.signing_key.serialize_pem(),
            )),
            insecure_skip_verify: false,
        };
        client_config(&options, &[]).unwrap();
    }

    #[test]
    fn problems_name_the_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsOptions {
            ca_file: Some(dir.path().join("nope.pem")),
            ..Default::default()
        };
        let e = client_config(&missing, &[]).unwrap_err().to_string();
        assert!(e.contains("CA file") && e.contains("nope.pem"), "{e}");

        let garbage = TlsOptions {
            ca_file: Some(write(dir.path(), "garbage.pem", "not a certificate")),
            ..Default::default()
        };
        let e = client_config(&garbage, &[]).unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");

        let half = TlsOptions {
            client_cert: Some(write(dir.path(), "c.pem", "x")),
            ..Default::default()
        };
        assert!(
            client_config(&half, &[])
                .unwrap_err()
                .to_string()
                .contains("client key")
        );
    }
}
