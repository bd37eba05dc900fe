//! Naming a store: `file:///abs/path`, a relative folder, or
//! `s3://bucket[/prefix]` with an endpoint, region and addressing style.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// What the user said about the store; see [`StoreConfig::resolve`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreConfig {
    /// `file:///abs/path`, `relative/folder`, or `s3://bucket[/prefix]`.
    pub url: String,
    /// The S3 endpoint, e.g. `https://s3.eu-central-003.backblazeb2.com`.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`). `None`: on for
    /// endpoints on an IP address or localhost, off otherwise.
    pub path_style: Option<bool>,
}

/// A resolved store location. It holds no secrets, so it can be logged and
/// recorded in metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Local {
        root: PathBuf,
    },
    /// `memory://<name>`: a store held in this process's memory (object_store's
    /// `InMemory`), shared by every open of the same name; for tests of the
    /// steps without a server or a folder.
    Memory {
        name: String,
    },
    S3 {
        bucket: String,
        prefix: String,
        endpoint_url: Option<String>,
        region: String,
        path_style: bool,
    },
}

impl StoreLocation {
    /// The URL that names this store again (`file:///...` or `s3://bucket/prefix`).
    pub fn url(&self) -> String {
        match self {
            StoreLocation::Local { root } => format!("file://{}", root.display()),
            StoreLocation::Memory { name } => format!("memory://{name}"),
            StoreLocation::S3 { bucket, prefix, .. } if prefix.is_empty() => {
                format!("s3://{bucket}")
            }
            StoreLocation::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    pub fn bucket(&self) -> Option<&str> {
        match self {
            StoreLocation::S3 { bucket, .. } => Some(bucket),
            StoreLocation::Local { .. } | StoreLocation::Memory { .. } => None,
        }
    }

    pub fn endpoint_url(&self) -> Option<&str> {
        match self {
            StoreLocation::S3 { endpoint_url, .. } => endpoint_url.as_deref(),
            StoreLocation::Local { .. } | StoreLocation::Memory { .. } => None,
        }
    }
}

/// S3 credentials, read from the environment.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, nor the key id (it names the account).
        f.write_str("Credentials { .. }")
    }
}

impl Credentials {
    /// `B2_APPLICATION_KEY_ID` / `B2_APPLICATION_KEY`, else
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub fn from_env() -> Option<Self> {
        let pair = |id: &str, secret: &str| {
            let id = std::env::var(id).ok().filter(|s| !s.is_empty())?;
            let secret = std::env::var(secret).ok().filter(|s| !s.is_empty())?;
            Some(Credentials {
                access_key_id: id,
                secret_access_key: secret,
            })
        };
        pair("B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY")
            .or_else(|| pair("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    }
}

/// The `user:secret@` part of a URL (`s3://key:secret@bucket`), if any.
fn userinfo_range(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let at = url[start..authority_end].rfind('@')? + start;
    Some(start..at + 1)
}

fn has_userinfo(url: &str) -> bool {
    userinfo_range(url).is_some()
}

/// `url` with any credentials written into it replaced by `***@`, so it
/// can appear in a message.
pub fn redact_userinfo(url: &str) -> String {
    match userinfo_range(url) {
        Some(r) => format!("{}***@{}", &url[..r.start], &url[r.end..]),
        None => url.to_owned(),
    }
}

impl StoreConfig {
    /// Resolve the URL; relative folders are taken relative to `base_dir`.
    pub fn resolve(&self, base_dir: &Path) -> Result<StoreLocation, StoreError> {
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: redact_userinfo(&self.url),
            reason,
        };
        let url = self.url.trim();
        if has_userinfo(url) {
            return Err(invalid(
                "credentials may not be written into a store URL; set them in the environment (B2_APPLICATION_KEY_ID / B2_APPLICATION_KEY or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)".into(),
            ));
        }
        if url.is_empty() {
            return Err(invalid("empty".into()));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if !valid_bucket(bucket) {
                return Err(invalid(format!(
                    "{bucket:?} is not a valid bucket name (3-63 characters: a-z, 0-9, '-', '.')"
                )));
            }
            let prefix = prefix.trim_matches('/').to_owned();
            if prefix.split('/').any(|seg| seg == ".." || seg == ".") {
                return Err(invalid(
                    "the prefix may not contain '.' or '..' segments".into(),
                ));
            }
            let endpoint_url = match &self.endpoint_url {
                Some(e) => {
                    let parsed = url::Url::parse(e).map_err(|err| StoreError::InvalidUrl {
                        url: redact_userinfo(e),
                        reason: format!("endpoint URL: {err}"),
                    })?;
                    if !parsed.username().is_empty() || parsed.password().is_some() {
                        return Err(StoreError::InvalidUrl {
                            url: redact_userinfo(e),
                            reason: "credentials may not be written into the endpoint URL; set them in the environment".into(),
                        });
                    }
                    if !matches!(parsed.scheme(), "http" | "https") {
                        return Err(StoreError::InvalidUrl {
                            url: redact_userinfo(e),
                            reason: "the endpoint URL must start with http:// or https://".into(),
                        });
                    }
                    Some(e.trim_end_matches('/').to_owned())
                }
                None => None,
            };
            let path_style = self.path_style.unwrap_or_else(|| {
                endpoint_url
                    .as_deref()
                    .and_then(|e| url::Url::parse(e).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .is_some_and(|h| {
                        h == "localhost" || h.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
                    })
            });
            let region = self
                .region
                .clone()
                .or_else(|| endpoint_url.as_deref().and_then(b2_region))
                .unwrap_or_else(|| "us-east-1".to_owned());
            return Ok(StoreLocation::S3 {
                bucket: bucket.to_owned(),
                prefix,
                endpoint_url,
                region,
                path_style,
            });
        }
        if let Some(name) = url.strip_prefix("memory://") {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(invalid(
                    "a memory:// store needs a name of [A-Za-z0-9_-]".into(),
                ));
            }
            return Ok(StoreLocation::Memory {
                name: name.to_owned(),
            });
        }
        let path = if let Some(rest) = url.strip_prefix("file://") {
            let p = PathBuf::from(rest);
            if !p.is_absolute() {
                return Err(invalid(
                    "a file:// URL needs an absolute path (file:///abs/path)".into(),
                ));
            }
            p
        } else if url.contains("://") {
            return Err(invalid(
                "unsupported scheme; use file:///abs/path, a folder, s3://bucket/prefix or memory://name".into(),
            ));
        } else {
            base_dir.join(url)
        };
        Ok(StoreLocation::Local { root: path })
    }
}

/// `https://s3.eu-central-003.backblazeb2.com` -> `eu-central-003`.
fn b2_region(endpoint: &str) -> Option<String> {
    let host = url::Url::parse(endpoint).ok()?.host_str()?.to_owned();
    let rest = host.strip_prefix("s3.")?;
    let region = rest.strip_suffix(".backblazeb2.com")?;
    Some(region.to_owned())
}

/// An S3 bucket name: 3-63 characters of a-z, 0-9, '-' and '.'.
fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_never_echo() {
        for url in [
            "s3://AKIAEXAMPLE:s3cr3tvalue@bucket/prefix",
            "s3://s3cr3tvalue@bucket",
        ] {
            let cfg = StoreConfig {
                url: url.into(),
                ..Default::default()
            };
            let err = cfg.resolve(Path::new("/")).unwrap_err().to_string();
            assert!(!err.contains("s3cr3tvalue"), "{err}");
            assert!(err.contains("***@bucket"), "{err}");
        }
        let cfg = StoreConfig {
            url: "s3://bucket".into(),
            endpoint_url: Some("https://user:s3cr3tvalue@s3.example.com".into()),
            ..Default::default()
        };
        let err = cfg.resolve(Path::new("/")).unwrap_err().to_string();
        assert!(!err.contains("s3cr3tvalue"), "{err}");
    }

    fn cfg(url: &str, endpoint: Option<&str>) -> StoreConfig {
        StoreConfig {
            url: url.into(),
            endpoint_url: endpoint.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn local_urls() {
        let base = Path::new("/work");
        assert_eq!(
            cfg("data/store", None).resolve(base).unwrap(),
            StoreLocation::Local {
                root: "/work/data/store".into()
            }
        );
        assert_eq!(
            cfg("file:///srv/pdfs", None).resolve(base).unwrap().url(),
            "file:///srv/pdfs"
        );
        assert!(cfg("file://relative", None).resolve(base).is_err());
        assert!(cfg("gs://x", None).resolve(base).is_err());
    }

    #[test]
    fn s3_urls_and_addressing() {
        let base = Path::new("/");
        let b2 = cfg(
            "s3://my-bucket/library/",
            Some("https://s3.eu-central-003.backblazeb2.com"),
        )
        .resolve(base)
        .unwrap();
        assert_eq!(
            b2,
            StoreLocation::S3 {
                bucket: "my-bucket".into(),
                prefix: "library".into(),
                endpoint_url: Some("https://s3.eu-central-003.backblazeb2.com".into()),
                region: "eu-central-003".into(),
                path_style: false,
            }
        );
        assert_eq!(b2.url(), "s3://my-bucket/library");
        for local in [
            "http://127.0.0.1:3900",
            "http://localhost:3900",
            "http://[::1]:3900",
        ] {
            match cfg("s3://b-1", Some(local)).resolve(base).unwrap() {
                StoreLocation::S3 { path_style, .. } => assert!(path_style, "{local}"),
                other => panic!("{other:?}"),
            }
        }
        let mut forced = cfg("s3://b-1", Some("http://127.0.0.1:3900"));
        forced.path_style = Some(false);
        assert!(matches!(
            forced.resolve(base).unwrap(),
            StoreLocation::S3 {
                path_style: false,
                ..
            }
        ));
        assert!(cfg("s3://Bad_Bucket", None).resolve(base).is_err());
        assert!(cfg("s3://bucket/../x", None).resolve(base).is_err());
        assert!(cfg("s3://bucket", Some("ftp://x")).resolve(base).is_err());
    }

    #[test]
    fn credentials_never_print() {
        let c = Credentials {
            access_key_id: "KEYID".into(),
            secret_access_key: "SECRET".into(),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("SECRET") && !s.contains("KEYID"));
    }
}
