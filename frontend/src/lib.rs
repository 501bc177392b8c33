//! The WASM entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for the browser tests: interactive from here on.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__portcullis_hydrated".into(), &true.into());
    }
}
