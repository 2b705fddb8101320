//! Accord reconstruction engine: from ISMRMRD raw data to images with identical settings for
//! every vendor. The crate is created with the workspace; its contents arrive with the recon issue.
