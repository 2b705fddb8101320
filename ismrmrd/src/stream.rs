//! The ISMRMRD 1.x stream format (what `siemens_to_ismrmrd` ≥ 1.3 writes by default and
//! Gadgetron/FIRE servers speak): a sequence of little-endian messages over any `Read`/`Write`.
