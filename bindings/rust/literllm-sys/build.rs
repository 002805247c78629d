// Links libliterllm through pkg-config (PKG_CONFIG_PATH selects the install).
// LITERLLM_LIB_DIR skips pkg-config: link -lliterllm from that directory.
fn main() {
    println!("cargo:rerun-if-env-changed=LITERLLM_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    if let Ok(dir) = std::env::var("LITERLLM_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=literllm");
        return;
    }
    match pkg_config::Config::new().atleast_version("0.1.0").probe("literllm") {
        Ok(lib) => {
            for p in &lib.link_paths {
                println!("cargo:root={}", p.display());
            }
        }
        Err(e) => panic!(
            "literllm-sys: libliterllm not found through pkg-config (set PKG_CONFIG_PATH or LITERLLM_LIB_DIR): {e}"
        ),
    }
}
