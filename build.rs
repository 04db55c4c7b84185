//! Rebuilds when a PostgreSQL migration is added: `sqlx::migrate!` embeds the directory's
//! files at compile time, and Cargo does not otherwise notice a new file in it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
