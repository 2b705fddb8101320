//! Acquisition and image flags. ISMRMRD numbers its flags from 1: flag number `n` is the bit
//! `1 << (n - 1)` of the 64-bit `flags` field (what the C helper `ismrmrd_set_flag` does).

use serde::Serialize;

macro_rules! flag_enum {
    (
        $(#[$meta:meta])* $name:ident, $set:ident, $set_doc:literal,
        $( $(#[$vdoc:meta])* $variant:ident = $bit:literal, $cname:literal; )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vdoc])* $variant = $bit, )*
        }

        impl $name {
            /// Every flag, in bit order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The 1-based bit number used by ISMRMRD (`ismrmrd.h`).
            pub const fn bit_number(self) -> u8 {
                self as u8
            }

            /// The bit mask `1 << (bit_number - 1)`.
            pub const fn mask(self) -> u64 {
                1u64 << (self as u8 - 1)
            }

            /// The name used by the ISMRMRD C library, e.g. `ACQ_IS_NOISE_MEASUREMENT`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $cname, )*
                }
            }

            /// Looks a flag up by its ISMRMRD name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|f| f.name() == name)
            }

            /// Looks a flag up by its 1-based bit number.
            pub fn from_bit_number(bit: u8) -> Option<Self> {
                Self::ALL.iter().copied().find(|f| f.bit_number() == bit)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        #[doc = $set_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, hdf5::H5Type)]
        #[repr(transparent)]
        #[serde(transparent)]
        pub struct $set(pub u64);

        impl $set {
            /// No flag set.
            pub const EMPTY: $set = $set(0);

            /// Whether `flag` is set.
            pub const fn contains(self, flag: $name) -> bool {
                self.0 & flag.mask() != 0
            }

            /// Sets `flag`.
            pub fn insert(&mut self, flag: $name) {
                self.0 |= flag.mask();
            }

            /// Clears `flag`.
            pub fn remove(&mut self, flag: $name) {
                self.0 &= !flag.mask();
            }

            /// This set with `flag` added.
            pub const fn with(self, flag: $name) -> Self {
                $set(self.0 | flag.mask())
            }

            /// The named flags that are set, in bit order.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                $name::ALL.iter().copied().filter(move |f| self.contains(*f))
            }

            /// Bits set that have no ISMRMRD name (1-based bit numbers).
            pub fn unnamed_bits(self) -> Vec<u8> {
                let named = $name::ALL.iter().fold(0u64, |m, f| m | f.mask());
                (1..=64u8).filter(|b| self.0 & !named & (1u64 << (b - 1)) != 0).collect()
            }
        }

        impl FromIterator<$name> for $set {
            fn from_iter<I: IntoIterator<Item = $name>>(iter: I) -> Self {
                iter.into_iter().fold($set::EMPTY, $set::with)
            }
        }
    };
}

flag_enum! {
    /// One acquisition flag (`ISMRMRD_AcquisitionFlags`); the value is the 1-based bit number.
    AcquisitionFlag, AcquisitionFlags, "The 64-bit flag set of an acquisition header.",
    /// First readout of a phase-encode line.
    FirstInEncodeStep1 = 1, "ACQ_FIRST_IN_ENCODE_STEP1";
    /// Last readout of a phase-encode line.
    LastInEncodeStep1 = 2, "ACQ_LAST_IN_ENCODE_STEP1";
    /// First readout of a partition (second phase-encode direction).
    FirstInEncodeStep2 = 3, "ACQ_FIRST_IN_ENCODE_STEP2";
    /// Last readout of a partition.
    LastInEncodeStep2 = 4, "ACQ_LAST_IN_ENCODE_STEP2";
    /// First readout of an average.
    FirstInAverage = 5, "ACQ_FIRST_IN_AVERAGE";
    /// Last readout of an average.
    LastInAverage = 6, "ACQ_LAST_IN_AVERAGE";
    /// First readout of a slice.
    FirstInSlice = 7, "ACQ_FIRST_IN_SLICE";
    /// Last readout of a slice.
    LastInSlice = 8, "ACQ_LAST_IN_SLICE";
    /// First readout of a contrast (echo).
    FirstInContrast = 9, "ACQ_FIRST_IN_CONTRAST";
    /// Last readout of a contrast.
    LastInContrast = 10, "ACQ_LAST_IN_CONTRAST";
    /// First readout of a (cardiac) phase.
    FirstInPhase = 11, "ACQ_FIRST_IN_PHASE";
    /// Last readout of a phase.
    LastInPhase = 12, "ACQ_LAST_IN_PHASE";
    /// First readout of a repetition.
    FirstInRepetition = 13, "ACQ_FIRST_IN_REPETITION";
    /// Last readout of a repetition.
    LastInRepetition = 14, "ACQ_LAST_IN_REPETITION";
    /// First readout of a set.
    FirstInSet = 15, "ACQ_FIRST_IN_SET";
    /// Last readout of a set.
    LastInSet = 16, "ACQ_LAST_IN_SET";
    /// First readout of a segment.
    FirstInSegment = 17, "ACQ_FIRST_IN_SEGMENT";
    /// Last readout of a segment.
    LastInSegment = 18, "ACQ_LAST_IN_SEGMENT";
    /// Noise measurement (no RF): used for the noise covariance.
    IsNoiseMeasurement = 19, "ACQ_IS_NOISE_MEASUREMENT";
    /// Parallel-imaging calibration line only (not part of the image).
    IsParallelCalibration = 20, "ACQ_IS_PARALLEL_CALIBRATION";
    /// Calibration line that is also an image line.
    IsParallelCalibrationAndImaging = 21, "ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING";
    /// Readout acquired in reverse (e.g. even EPI lines).
    IsReverse = 22, "ACQ_IS_REVERSE";
    /// Navigator data.
    IsNavigationData = 23, "ACQ_IS_NAVIGATION_DATA";
    /// EPI phase-correction reference data.
    IsPhasecorrData = 24, "ACQ_IS_PHASECORR_DATA";
    /// Last readout of the measurement.
    LastInMeasurement = 25, "ACQ_LAST_IN_MEASUREMENT";
    /// Hyperpolarisation feedback data.
    IsHpfeedbackData = 26, "ACQ_IS_HPFEEDBACK_DATA";
    /// Dummy-scan data.
    IsDummyscanData = 27, "ACQ_IS_DUMMYSCAN_DATA";
    /// Real-time feedback data.
    IsRtfeedbackData = 28, "ACQ_IS_RTFEEDBACK_DATA";
    /// Surface-coil correction scan data.
    IsSurfacecoilcorrectionscanData = 29, "ACQ_IS_SURFACECOILCORRECTIONSCAN_DATA";
    /// Phase-stabilisation reference readout.
    IsPhaseStabilizationReference = 30, "ACQ_IS_PHASE_STABILIZATION_REFERENCE";
    /// Phase-stabilisation readout.
    IsPhaseStabilization = 31, "ACQ_IS_PHASE_STABILIZATION";
    /// Compression flag 1.
    Compression1 = 53, "ACQ_COMPRESSION1";
    /// Compression flag 2.
    Compression2 = 54, "ACQ_COMPRESSION2";
    /// Compression flag 3.
    Compression3 = 55, "ACQ_COMPRESSION3";
    /// Compression flag 4.
    Compression4 = 56, "ACQ_COMPRESSION4";
    /// User flag 1.
    User1 = 57, "ACQ_USER1";
    /// User flag 2.
    User2 = 58, "ACQ_USER2";
    /// User flag 3.
    User3 = 59, "ACQ_USER3";
    /// User flag 4.
    User4 = 60, "ACQ_USER4";
    /// User flag 5.
    User5 = 61, "ACQ_USER5";
    /// User flag 6.
    User6 = 62, "ACQ_USER6";
    /// User flag 7.
    User7 = 63, "ACQ_USER7";
    /// User flag 8.
    User8 = 64, "ACQ_USER8";
}

flag_enum! {
    /// One image flag (`ISMRMRD_ImageFlags`); the value is the 1-based bit number.
    ImageFlag, ImageFlags, "The 64-bit flag set of an image header.",
    /// Navigator image.
    IsNavigationData = 1, "IMAGE_IS_NAVIGATION_DATA";
    /// First image of an average.
    FirstInAverage = 5, "IMAGE_FIRST_IN_AVERAGE";
    /// Last image of an average.
    LastInAverage = 6, "IMAGE_LAST_IN_AVERAGE";
    /// First image of a slice.
    FirstInSlice = 7, "IMAGE_FIRST_IN_SLICE";
    /// Last image of a slice.
    LastInSlice = 8, "IMAGE_LAST_IN_SLICE";
    /// First image of a contrast.
    FirstInContrast = 9, "IMAGE_FIRST_IN_CONTRAST";
    /// Last image of a contrast.
    LastInContrast = 10, "IMAGE_LAST_IN_CONTRAST";
    /// First image of a phase.
    FirstInPhase = 11, "IMAGE_FIRST_IN_PHASE";
    /// Last image of a phase.
    LastInPhase = 12, "IMAGE_LAST_IN_PHASE";
    /// First image of a repetition.
    FirstInRepetition = 13, "IMAGE_FIRST_IN_REPETITION";
    /// Last image of a repetition.
    LastInRepetition = 14, "IMAGE_LAST_IN_REPETITION";
    /// First image of a set.
    FirstInSet = 15, "IMAGE_FIRST_IN_SET";
    /// Last image of a set.
    LastInSet = 16, "IMAGE_LAST_IN_SET";
    /// User flag 1.
    User1 = 57, "IMAGE_USER1";
    /// User flag 2.
    User2 = 58, "IMAGE_USER2";
    /// User flag 3.
    User3 = 59, "IMAGE_USER3";
    /// User flag 4.
    User4 = 60, "IMAGE_USER4";
    /// User flag 5.
    User5 = 61, "IMAGE_USER5";
    /// User flag 6.
    User6 = 62, "IMAGE_USER6";
    /// User flag 7.
    User7 = 63, "IMAGE_USER7";
    /// User flag 8.
    User8 = 64, "IMAGE_USER8";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_numbers_are_one_based() {
        assert_eq!(AcquisitionFlag::FirstInEncodeStep1.mask(), 0x1);
        assert_eq!(AcquisitionFlag::IsNoiseMeasurement.mask(), 0x40000);
        assert_eq!(AcquisitionFlag::LastInMeasurement.mask(), 0x100_0000);
        assert_eq!(AcquisitionFlag::IsPhaseStabilization.mask(), 0x4000_0000);
        assert_eq!(AcquisitionFlag::Compression1.mask(), 1 << 52);
        assert_eq!(AcquisitionFlag::User8.mask(), 1 << 63);
        assert_eq!(ImageFlag::IsNavigationData.mask(), 1);
        assert_eq!(ImageFlag::LastInSet.mask(), 1 << 15);
    }

    #[test]
    fn set_operations_and_names() {
        let mut f = AcquisitionFlags::EMPTY;
        f.insert(AcquisitionFlag::IsParallelCalibration);
        f.insert(AcquisitionFlag::User1);
        assert!(f.contains(AcquisitionFlag::IsParallelCalibration));
        assert!(!f.contains(AcquisitionFlag::IsNoiseMeasurement));
        let names: Vec<_> = f.iter().map(|x| x.name()).collect();
        assert_eq!(names, ["ACQ_IS_PARALLEL_CALIBRATION", "ACQ_USER1"]);
        f.remove(AcquisitionFlag::User1);
        assert_eq!(f.0, 0x80000);
        assert_eq!(
            AcquisitionFlag::from_name("ACQ_IS_REVERSE"),
            Some(AcquisitionFlag::IsReverse)
        );
        assert_eq!(
            AcquisitionFlag::from_bit_number(19),
            Some(AcquisitionFlag::IsNoiseMeasurement)
        );
        assert_eq!(AcquisitionFlags(1 << 40).unnamed_bits(), vec![41]);
        assert_eq!(AcquisitionFlag::ALL.len(), 31 + 4 + 8);
    }
}
