//! What a publisher ships: the licence, and the Serverless Application
//! Repository metadata in step with the crate.

fn read(path: &str) -> String {
    std::fs::read_to_string(crate::checkout::project_dir().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_published_version_is_the_crates() {
    let template = read("template.yaml");
    let declared = template
        .lines()
        .find_map(|l| l.trim().strip_prefix("SemanticVersion:"))
        .map(str::trim)
        .expect("template.yaml declares a SemanticVersion");
    assert_eq!(declared, env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_licence_is_named_everywhere_it_is_declared() {
    assert!(read("LICENSE").contains("Apache License"));
    assert!(read("LICENSE").contains("Version 2.0, January 2004"));
    assert!(read("template.yaml").contains("SpdxLicenseId: Apache-2.0"));
    assert!(read("Cargo.toml").contains("license = \"Apache-2.0\""));
    assert!(read("README.md").contains("Apache License, Version 2.0"));
}
