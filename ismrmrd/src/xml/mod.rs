//! The ISMRMRD XML header (`ismrmrd.xsd`) as typed structs: parse, validate, serialize.
