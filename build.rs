//! With the `lstm` feature, embeds an rpath to libtorch so that `sim` runs without
//! LD_LIBRARY_PATH.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_LSTM").is_none() {
        return;
    }
    let Some(root) = std::env::var_os("LIBTORCH") else {
        return;
    };
    let lib = std::path::Path::new(&root).join("lib");
    let lib = std::fs::canonicalize(&lib).unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
