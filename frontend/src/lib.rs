//! The WASM entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds print a panic's message to the console. The release build
    // leaves it out (bench/WASM-SIZE.md): there a panic is the browser's bare
    // "RuntimeError: unreachable".
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Asynchronous hydration (what `leptos::mount::hydrate_lazy` does): a lazy
    // route's chunk is fetched before its part of the page is hydrated.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a page has a <body>");
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        // A marker for the browser tests: interactive from here on.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &"__portcullis_hydrated".into(), &true.into());
        }
    });
}
