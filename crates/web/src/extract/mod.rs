//! The site's own request extractors: a form body read strictly ([`Form`]) and a
//! logged-in member's form ([`MemberForm`]), so every form route refuses the same way.

mod member_form;

pub(crate) use member_form::{MemberForm, ReturnTo, login_redirect};

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::HttpError;

/// An `application/x-www-form-urlencoded` body, refused with 400 and the decoder's
/// words when it does not fit `T`: a missing field, a field given twice, or (on form
/// types marked `#[serde(deny_unknown_fields)]`, which all the site's are) a field the
/// form does not have, such as a misspelled or `name[]`-style repeated one. axum's own
/// extractor answers 422 to some of these; a field nobody reads would otherwise be
/// dropped without a word, and a misspelled field look like an empty one.
pub(crate) struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => {
                let status = match rejection.status() {
                    StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                    other => other,
                };
                Err(HttpError::new(status, rejection.body_text()))
            }
        }
    }
}
