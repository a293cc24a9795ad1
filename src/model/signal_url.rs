//! `Job.CompletionSignalUrl`: the pre-signed URL of a CloudFormation
//! WaitConditionHandle. Like the ResponseURL it is a credential: its Debug
//! and Display show only the host, and no error message quotes it.

use std::fmt;

/// A WaitConditionHandle's URL, signalled once when the job ends.
#[derive(Clone, PartialEq, Eq)]
pub struct SignalUrl(String);

impl SignalUrl {
    /// Checks the shape of a pre-signed https URL (http only on the loopback
    /// host, for local runs); the error never contains the URL.
    pub fn parse(url: &str) -> Result<Self, &'static str> {
        let (scheme, rest) = url.split_once("://").ok_or("is not a URL")?;
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let hostname = host.split(':').next().unwrap_or("");
        let loopback = matches!(hostname, "127.0.0.1" | "localhost" | "[::1]");
        if !(scheme == "https" || (scheme == "http" && loopback)) {
            return Err("is not an https URL");
        }
        if hostname.is_empty() || url.chars().any(char::is_whitespace) {
            return Err("has no host, or contains spaces");
        }
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        if !query
            .split('&')
            .any(|p| p.starts_with("Signature=") || p.starts_with("X-Amz-Signature="))
        {
            return Err("is not pre-signed (it has no Signature)");
        }
        Ok(SignalUrl(url.to_string()))
    }

    /// The full URL, for the one place that sends the signal.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Scheme and host only, safe to log.
    pub fn redacted(&self) -> String {
        let scheme = self.0.split_once("://").map_or("https", |(s, _)| s);
        format!("{scheme}://{}/<redacted>", url_host(&self.0))
    }
}

/// The host of a URL: all of a pre-signed URL that may be logged.
pub(crate) fn url_host(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or("", |(_, r)| r);
    without_scheme.split(['/', '?']).next().unwrap_or("")
}

impl fmt::Debug for SignalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalUrl({})", self.redacted())
    }
}

impl fmt::Display for SignalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}
