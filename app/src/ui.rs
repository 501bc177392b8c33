//! Form building blocks shared by every page: labelled fields with their
//! errors, a password field that can be revealed, a submit button with a
//! pending state. They render the same on the server and in the browser, so
//! hydration never moves anything.

use leptos::{ev::SubmitEvent, prelude::*, web_sys};

use crate::error::{AuthError, Field};

/// The fields of a form being submitted, read in the browser.
///
/// Every form posts to its server function with `method="post"`, so it works
/// before the WASM has loaded and with JavaScript off. Once hydrated, the
/// page's `on:submit` handler calls [`Submitted::take`] and dispatches the
/// server function itself: the page stays, and errors show beside their fields.
/// (Leptos's `ActionForm` does the same, but its generic form decoding made the
/// WASM about 30 KB gzip larger.)
pub struct Submitted(Option<web_sys::FormData>);

impl Submitted {
    /// Stops the browser's own post and reads the form's fields.
    pub fn take(ev: &SubmitEvent) -> Self {
        ev.prevent_default();
        let form = event_target::<web_sys::HtmlFormElement>(ev);
        Self(web_sys::FormData::new_with_form(&form).ok())
    }

    /// The value of the field `name` (empty when the form has none).
    #[must_use]
    pub fn get(&self, name: &str) -> String {
        self.0
            .as_ref()
            .and_then(|data| data.get(name).as_string())
            .unwrap_or_default()
    }
}

/// A labelled input with an optional hint and its inline error.
///
/// The input's `id` and `name` are the field's wire name ([`Field::as_str`]),
/// so an error naming a field can find and focus it.
#[component]
pub fn FormField(
    field: Field,
    label: &'static str,
    autocomplete: &'static str,
    /// The form's error: shown here when it names this field.
    #[prop(into)]
    error: Signal<Option<AuthError>>,
    #[prop(optional)] password: bool,
    #[prop(optional)] hint: Option<&'static str>,
    /// The form's first field: it gets `autofocus` unless the error names another field.
    #[prop(optional)]
    first: bool,
    /// Called with the value on every keystroke.
    #[prop(optional)]
    on_input: Option<Callback<String>>,
    /// Shown under the input (the strength meter).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = field.as_str();
    // Server-rendered `autofocus`, so focus lands right even before hydration.
    let autofocus = move || {
        error.with(|e| match e.as_ref().and_then(AuthError::field) {
            Some(at) => at == field,
            None => first,
        })
    };
    let error = Signal::derive(move || field_error(error.get().as_ref(), field));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = match hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    let revealed = RwSignal::new(false);
    let input_type = move || {
        if password && !revealed.get() {
            "password"
        } else {
            "text"
        }
    };
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id>{label}</label>
            <div class="input-wrap">
                <input
                    id=id
                    name=id
                    type=input_type
                    autocomplete=autocomplete
                    required
                    spellcheck="false"
                    autocapitalize="none"
                    autofocus=autofocus
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    aria-describedby=described_by
                    on:input=move |ev| {
                        if let Some(cb) = on_input {
                            cb.run(event_target_value(&ev));
                        }
                    }
                />
                {password.then(|| view! { <RevealToggle controls=id revealed /> })}
            </div>
            {children.map(|c| c())}
            {hint.map(|text| view! { <p id=hint_id class="hint">{text}</p> })}
            <p id=error_id class="field-error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

/// The show/hide button of a password field. It does nothing without the
/// WASM, so it stays hidden until the page has hydrated; it is positioned over
/// the input, so appearing moves nothing.
#[component]
fn RevealToggle(controls: &'static str, revealed: RwSignal<bool>) -> impl IntoView {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <button
            type="button"
            class="reveal"
            hidden=move || !ready.get()
            aria-controls=controls
            aria-pressed=move || if revealed.get() { "true" } else { "false" }
            on:click=move |_| revealed.update(|r| *r = !*r)
        >
            {move || if revealed.get() { "Hide" } else { "Show" }}
            <span class="visually-hidden">" password"</span>
        </button>
    }
}

/// The submit button: disabled with a spinner while the action runs.
#[component]
pub fn Submit(
    label: &'static str,
    pending_label: &'static str,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button type="submit" class="primary" disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            <span class="spinner" aria-hidden="true" class:on=move || pending.get()></span>
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}

/// The form-level error (one that belongs to no single field), announced
/// when it appears; focusable so the page can move focus to it.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AuthError>>) -> impl IntoView {
    let error = Signal::derive(move || form_error(error.get().as_ref()));
    view! {
        <p id="form-error" class="alert" class:shown=move || error.with(Option::is_some)
            role="alert" tabindex="-1">
            {move || error.get()}
        </p>
    }
}

/// The message for `field`, when the error belongs beside it.
fn field_error(error: Option<&AuthError>, field: Field) -> Option<String> {
    error
        .filter(|e| e.field() == Some(field))
        .map(ToString::to_string)
}

/// The message for the whole form, when the error belongs to no single field.
fn form_error(error: Option<&AuthError>) -> Option<String> {
    error
        .filter(|e| e.field().is_none())
        .map(ToString::to_string)
}

/// The error a form posted without JavaScript was sent back with
/// (`?error=…&field=…`), as [`AuthError::to_query`] wrote it.
#[must_use]
pub fn query_error(query: &leptos_router::params::ParamsMap) -> Option<AuthError> {
    AuthError::from_query(
        &query.get("error")?,
        query.get("field").as_deref(),
        query.get("retry_after").and_then(|v| v.parse().ok()),
    )
}

/// Moves keyboard focus to what `error` is about: its field, or the form's alert.
pub fn focus_error(error: &AuthError) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let id = error.field().map_or("form-error", Field::as_str);
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = error;
}
