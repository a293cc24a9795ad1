//! The function's one HTTP client. The SDK's calls and the answers to
//! CloudFormation go through the same `reqwest::Client`: the system's root
//! certificates are read once per process (on the first event), and there is
//! one TLS set-up to reason about.
//!
//! The SDK reaches the client through [`SdkTransport`], the SDK's
//! `HttpClient` interface over it. The crates on crates.io that do this were
//! not taken: aws-smithy-http-client-reqwest maps every transport error to
//! "other" (the SDK would not retry a reset connection or a timeout), panics
//! on a URI it cannot parse and turns on reqwest features the function does
//! not want (HTTP/2, system proxies); smithy-transport-reqwest builds reqwest
//! clients of its own, so nothing would be shared.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// How long a connection may take to open, for every request the function
/// makes (reqwest sets it per client, so the SDK's connect timeout is this
/// one: `parts::sdk_config_loader` configures the same value).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The client. No redirects: a pre-signed URL never redirects (following one
/// would hand the answer to someone else), and the SDK reads a redirect as
/// the service's answer, as its own client does. No client-wide total
/// timeout: each caller bounds its own requests (the answer per attempt, the
/// SDK per attempt and operation).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The SDK's HTTP client over the function's reqwest client.
#[derive(Clone, Debug)]
pub struct SdkTransport {
    http: reqwest::Client,
}

impl SdkTransport {
    /// The SDK's calls sent with `http`, for `ConfigLoader::http_client`.
    pub fn shared(http: reqwest::Client) -> SharedHttpClient {
        SharedHttpClient::new(SdkTransport { http })
    }
}

impl HttpClient for SdkTransport {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(SdkConnector {
            http: self.http.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct SdkConnector {
    http: reqwest::Client,
    /// Applied per request as reqwest's timeout, which bounds the whole
    /// exchange; the SDK's attempt timeout bounds it as well.
    read_timeout: Option<Duration>,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let mut request = to_reqwest(request)?;
            if let Some(t) = read_timeout {
                *request.timeout_mut() = Some(t);
            }
            let response = http.execute(request).await.map_err(connector_error)?;
            from_reqwest(response)
        })
    }
}

fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()).never_connected())?;
    // An in-memory body (every call this function makes) keeps its known
    // length; a streaming one is passed through as a stream.
    let request = request.map(|body| match body.bytes() {
        Some(bytes) => reqwest::Body::from(bytes.to_vec()),
        None => reqwest::Body::wrap(body),
    });
    reqwest::Request::try_from(request)
        .map_err(|e| ConnectorError::user(e.into()).never_connected())
}

/// The response with its body still streaming: a body cut off mid-way is
/// an error where the SDK reads it, as with the SDK's own client.
fn from_reqwest(response: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let response = http::Response::from(response).map(SdkBody::from_body_1_x);
    HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
}

/// What the SDK's retry needs to know: a timeout and a connection that failed
/// or broke are transient (retried), a request that could not be built is
/// the caller's.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_builder() {
        ConnectorError::user(e.into()).never_connected()
    } else if e.is_connect() {
        ConnectorError::io(e.into()).never_connected()
    } else if e.is_request() || e.is_body() {
        // Sending the request or reading the response head failed: the
        // connection was reset or closed.
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}
