//! How the app's server functions travel: the browser's `fetch`, plus one
//! custom header on every call.
//!
//! The header is the second CSRF layer (the first is the server's Origin /
//! `Sec-Fetch-Site` check, see `server::security`): a cross-site page cannot
//! add a custom header to a request without a CORS preflight, which this server
//! never grants, so a forged `fetch` or form post that slipped past the origin
//! check would still be refused.

use std::future::Future;

use futures::{Sink, Stream};
use leptos::server_fn::{
    client::{browser::BrowserClient, Client},
    error::FromServerFnError,
    request::browser::BrowserRequest,
    response::browser::BrowserResponse,
    Bytes,
};

pub use portcullis_core::transport::CSRF_HEADER;

/// `BrowserClient` with [`CSRF_HEADER`] set on every request. Name it on every
/// server function: `#[server(client = AppClient, …)]`.
pub struct AppClient;

impl<E, I, O> Client<E, I, O> for AppClient
where
    E: FromServerFnError + Send + 'static,
    I: FromServerFnError + Send + 'static,
    O: FromServerFnError + Send + 'static,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        req.headers().set(CSRF_HEADER, "1");
        <BrowserClient as Client<E, I, O>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, I, O>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, I, O>>::spawn(future);
    }
}
