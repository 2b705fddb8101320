//! Accord digital phantoms, virtual scanner and multi-site agreement analysis (CoV, ICC,
//! Bland–Altman). The crate is created with the workspace; its contents arrive with the analyzer issue.
