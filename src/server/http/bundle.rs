//! The bundle a page loads: the site cargo-leptos built (embedded into a release binary,
//! or read from `server.site_root`), its URLs, the build version in them, and the WASM
//! chunks each split function needs. Names no other server module: the shared state
//! holds a [`BundleUrls`], the static-file handler (`assets.rs`) serves what it names.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The site cargo-leptos built. Release builds carry the files; debug builds read them
/// from this folder at run time, so `cargo leptos watch` serves fresh files.
#[derive(rust_embed::RustEmbed)]
#[folder = "target/site"]
#[allow_missing = true]
pub(super) struct Site;

/// Whether the embedded site holds the WASM bundle (a release binary built without
/// `cargo leptos build` would serve pages that never hydrate).
pub(crate) fn embedded_site_is_complete(output_name: &str) -> bool {
    Site::get(&format!("pkg/{output_name}.wasm")).is_some()
        && Site::get(&format!("pkg/{output_name}.js")).is_some()
}

/// The module the main JS file imports to load WASM chunks; cargo-leptos writes it under
/// this name (`--split`, file hashing off), next to the bundle.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// What the loader reads to know which chunks each lazily loaded function needs.
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// The URLs a page loads the app by. A release binary's embedded bundle is served under
/// `/pkg/<version>/`, the version a hash of every file in it, and a request naming the
/// version of the binary answering is cached for a year (`immutable`): a returning
/// visitor's browser starts the app without asking the server again, where it used to
/// revalidate every file first. The version is a path segment rather than a query so the
/// modules' relative imports (the main module and the WASM-split loader import each
/// other, the loader fetches the chunks) stay within it: a query would be dropped by them
/// and load the main module a second time. A new build has a new version; a URL with
/// another build's version still gets this build's file, only revalidated — except a WASM
/// chunk (`BundleUrls::is_chunk`), which only works with the main module of its own
/// build. Files read from disk (`site_root`, or a debug build's site) may change under a
/// running server, so their URLs stay plain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BundleUrls {
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// The WASM-split loader, if the site has one (`--split` builds).
    pub split_loader: Option<String>,
    /// The URLs of the WASM chunks each split function needs, by the function's name (the
    /// split manifest's key); read once, at start. Read through `chunks_of`.
    chunks: BTreeMap<String, Vec<String>>,
}

impl BundleUrls {
    pub(crate) fn of_site(site_root: &str, output_name: &str) -> Self {
        let embedded = site_root.is_empty();
        let prefix = match bundle_version().filter(|_| embedded) {
            Some(version) => format!("/pkg/{version}"),
            None => "/pkg".to_owned(),
        };
        let site_file = |name: &str| match embedded {
            true => Site::get(&format!("pkg/{name}")).map(|file| file.data.into_owned()),
            false => std::fs::read(std::path::Path::new(site_root).join("pkg").join(name)).ok(),
        };
        let split_loader_present = site_file(SPLIT_LOADER).is_some();
        let manifest = site_file(SPLIT_MANIFEST).unwrap_or_default();
        Self {
            js: format!("{prefix}/{output_name}.js"),
            wasm: format!("{prefix}/{output_name}.wasm"),
            css: format!("{prefix}/{output_name}.css"),
            split_loader: split_loader_present.then(|| format!("{prefix}/{SPLIT_LOADER}")),
            chunks: chunks_by_function(&manifest, &prefix),
        }
    }

    /// The URLs of the chunks the split function `name` needs; none for a name the
    /// manifest does not have.
    pub(crate) fn chunks_of(&self, name: &str) -> &[String] {
        self.chunks.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether `file`, a name under `pkg/`, is one of the split's WASM chunks. A chunk
    /// imports nothing by name, only the main module's memory and function table, and
    /// calls into them by index: given to the main module of another build it would link,
    /// and call the wrong functions. So another build's URL gets no chunk (a 404, which the
    /// page shows as a part it could not load, with a reload); the main module and its JS
    /// keep being served, as a pair.
    pub(crate) fn is_chunk(&self, file: &str) -> bool {
        self.chunks
            .values()
            .flatten()
            .any(|url| url.rsplit('/').next() == Some(file))
    }
}

/// The split manifest (`{"panels": ["chunk_5", "split_panels"], ...}`, keyed by the split
/// function's module name, which is also its name; see `components::deferred`) as chunk
/// URLs by function name. An unreadable manifest gives none: pages then load their chunks
/// only once they need them, as without preloads.
fn chunks_by_function(manifest: &[u8], prefix: &str) -> BTreeMap<String, Vec<String>> {
    let entries =
        serde_json::from_slice::<BTreeMap<String, Vec<String>>>(manifest).unwrap_or_default();
    entries
        .into_iter()
        .map(|(name, chunks)| {
            let urls = chunks
                .iter()
                .map(|chunk| format!("{prefix}/{chunk}.wasm"))
                .collect();
            (name, urls)
        })
        .collect()
}

/// The embedded bundle's version: the first 8 bytes, in hex, of a SHA-256 over the
/// hashes of every file under `pkg/`. `None` when the binary carries no bundle, and in
/// debug builds, whose site is read from disk and may change under them.
pub(super) fn bundle_version() -> Option<&'static str> {
    if cfg!(debug_assertions) {
        return None;
    }
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let mut names: Vec<_> = Site::iter()
                .filter(|name| name.starts_with("pkg/"))
                .collect();
            names.sort();
            let mut hasher = Sha256::new();
            for name in &names {
                let file = Site::get(name)?;
                hasher.update(name.as_bytes());
                hasher.update(file.metadata.sha256_hash());
            }
            (!names.is_empty()).then(|| hex(&hasher.finalize()[..8]))
        })
        .as_deref()
}

/// Which build a requested URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Build {
    /// `/pkg/<version>/…` with the version of the binary answering.
    This,
    /// `/pkg/<version>/…` with another version: a page or a tab from before a deploy, or
    /// from another instance running another build.
    Other,
    /// No version in the path.
    Unnamed,
}

/// A path under `/pkg/<version>/` as the embedded file it names, and which build the
/// version is, against `current`, the version of this build.
pub(super) fn unversioned<'a>(path: &'a str, current: Option<&str>) -> (Cow<'a, str>, Build) {
    let versioned = path
        .strip_prefix("pkg/")
        .and_then(|rest| rest.split_once('/'));
    match versioned {
        Some((version, file))
            if version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            let build = match current == Some(version) {
                true => Build::This,
                false => Build::Other,
            };
            (Cow::Owned(format!("pkg/{file}")), build)
        }
        _ => (Cow::Borrowed(path), Build::Unnamed),
    }
}

/// `bytes` in lower-case hexadecimal.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{chunks_by_function, unversioned, Build, BundleUrls};

    #[test]
    fn a_versioned_path_names_the_plain_file_and_only_this_builds_version_is_current() {
        let this = Some("0123456789abcdef");
        assert_eq!(
            unversioned("pkg/0123456789abcdef/painless.js", this),
            ("pkg/painless.js".into(), Build::This)
        );
        assert_eq!(
            unversioned("pkg/fedcba9876543210/painless.wasm", this),
            ("pkg/painless.wasm".into(), Build::Other),
            "another build's version still names the file"
        );
        assert_eq!(
            unversioned("pkg/0123456789abcdef/painless.js", None),
            ("pkg/painless.js".into(), Build::Other)
        );
        for plain in [
            "pkg/painless.js",
            "pkg/snippets/some-crate/inline0.js",
            "pkg/0123456789abcdeg/painless.js",
            "favicon.svg",
        ] {
            assert_eq!(
                unversioned(plain, this),
                (plain.into(), Build::Unnamed),
                "{plain}"
            );
        }
    }

    #[test]
    fn the_split_manifest_gives_each_split_functions_chunk_urls_by_its_name() {
        let manifest = br#"{
            "panels": ["chunk_6", "split_panels"],
            "order_list": ["chunk_6", "chunk_7", "split_order_list"]
        }"#;
        let chunks = chunks_by_function(manifest, "/pkg/0123456789abcdef");
        assert_eq!(
            chunks["panels"],
            [
                "/pkg/0123456789abcdef/chunk_6.wasm",
                "/pkg/0123456789abcdef/split_panels.wasm"
            ]
        );
        assert_eq!(
            chunks["order_list"],
            [
                "/pkg/0123456789abcdef/chunk_6.wasm",
                "/pkg/0123456789abcdef/chunk_7.wasm",
                "/pkg/0123456789abcdef/split_order_list.wasm"
            ]
        );
        assert_eq!(chunks.len(), 2);
        let site = tempfile::tempdir().expect("site dir");
        std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
        let manifest_file = site.path().join("pkg").join(super::SPLIT_MANIFEST);
        std::fs::write(&manifest_file, manifest).expect("manifest");
        let root = site.path().to_str().expect("utf-8 path");
        let bundle = BundleUrls::of_site(root, "painless");
        for chunk in [
            "chunk_6.wasm",
            "chunk_7.wasm",
            "split_order_list.wasm",
            "split_panels.wasm",
        ] {
            assert!(bundle.is_chunk(chunk), "{chunk}");
        }
        for other in [
            "painless.wasm",
            "painless.js",
            "chunk_6",
            "chunk_8.wasm",
            "",
        ] {
            assert!(!bundle.is_chunk(other), "{other}");
        }
        for unreadable in [&b""[..], b"not json", b"[1, 2]", b"{\"panels_1\": 3}"] {
            assert!(
                chunks_by_function(unreadable, "/pkg").is_empty(),
                "{unreadable:?}"
            );
            std::fs::write(&manifest_file, unreadable).expect("manifest");
            let bundle = BundleUrls::of_site(root, "painless");
            assert!(!bundle.is_chunk("chunk_6.wasm"), "{unreadable:?}");
        }
    }
}
