//! `write-test-plugins DIR`: writes every WAT module the scenarios register into DIR as
//! `<name>.wat` (scripts/test-edge.sh bundles them with the Worker, which cannot compile Wasm at
//! run time).

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .ok_or_else(|| std::io::Error::other("usage: write-test-plugins DIR"))?;
    std::fs::create_dir_all(&dir)?;
    for (name, wat) in cognate_tests::plugins::wat_modules() {
        std::fs::write(dir.join(format!("{name}.wat")), wat)?;
    }
    Ok(())
}
