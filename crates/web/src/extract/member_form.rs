//! [`MemberForm`]: the opening every member-only form route shares. A visitor who is
//! not logged in is sent to `/login?next=…` (back to where the form belongs), and a
//! member's form must carry their session's CSRF token; only then does the handler run.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use crate::csrf;
use crate::extract::Form;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views;

/// A form a member posts: its CSRF token, and where a logged-out visitor returns to
/// after logging in.
pub(crate) trait ReturnTo {
    /// The `csrf` field as sent.
    fn csrf(&self) -> Option<&str>;
    /// The site path the login page sends the visitor back to; `path` is the path the
    /// form was posted to (some forms belong to the page of the thing in their path).
    fn return_to(&self, path: &str) -> String;
}

/// A logged-in member and their form, CSRF token checked. The body is read first
/// (strictly, see [`Form`]), so a malformed form is a 400 whoever sends it; then a
/// visitor without a session gets the login redirect; then the token is checked (403
/// when missing or wrong).
pub(crate) struct MemberForm<T> {
    pub member: SessionUser,
    pub form: T,
}

impl<T> MemberForm<T> {
    /// The member as the views' [`MaybeUser`].
    pub(crate) fn user(&self) -> MaybeUser {
        MaybeUser(Some(self.member.clone()))
    }
}

impl<T> FromRequest<AppState> for MemberForm<T>
where
    T: DeserializeOwned + ReturnTo,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let path = request.uri().path().to_owned();
        let (mut parts, body) = request.into_parts();
        let user = MaybeUser::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let request = Request::from_parts(parts, body);
        let Form(form) = Form::<T>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(member) = user.0 else {
            return Err(login_redirect(&form.return_to(&path)));
        };
        csrf::check_session(&member, form.csrf()).map_err(IntoResponse::into_response)?;
        Ok(MemberForm { member, form })
    }
}

/// The login page, returning to the site path `next` afterwards.
pub(crate) fn login_redirect(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", views::encode(next))).into_response()
}
