//! The HTTP edge shared by the server functions, the JSON API and page loads:
//! the request pipeline (CSRF, authentication, resume, page guard), the
//! request context every adapter reads, the cookie flows and how an error
//! becomes a response.

pub mod authenticate;
pub mod context;
pub mod cookies;
pub mod csrf;
pub mod flows;
pub mod guard;
pub mod pipeline;
pub mod response;
pub mod resume;
