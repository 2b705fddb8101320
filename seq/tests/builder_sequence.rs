//! `SequenceBuilder`: library de-duplication, duration rules, continuity checks, and the
//! round trip builder → writer → reader, with hand-made events (the `make_*` builders have their
//! own tests against pypulseq).

use accord_seq::build::{
    Adc, ArbitraryGrad, Channel, Event, Grad, GradTiming, LabelEvent, LabelOp, Rf, RfUse,
    SequenceBuilder, Trapezoid,
};
use accord_seq::system::System;
use accord_seq::write::{WriteOptions, write_string};
use accord_seq::{Gradient, Nanos};
use num_complex::Complex64;

fn trap(channel: Channel, amp: f64, rise: i64, flat: i64, delay: i64) -> Event {
    Event::Grad(Grad::Trap(Trapezoid {
        channel,
        amplitude: amp,
        rise_time: Nanos(rise),
        flat_time: Nanos(flat),
        fall_time: Nanos(rise),
        delay: Nanos(delay),
    }))
}

fn block_rf(flip_hz: f64, n: usize) -> Rf {
    Rf {
        signal: vec![Complex64::new(flip_hz, 0.0); n],
        t: (0..n).map(|k| (k as f64 + 0.5) * 1e-6).collect(),
        shape_dur: Nanos(n as i64 * 1000),
        delay: Nanos(20_000),
        center: Nanos(n as i64 * 500),
        freq_offset: 0.0,
        phase_offset: 0.0,
        freq_ppm: 0.0,
        phase_ppm: 0.0,
        dead_time: Nanos::ZERO,
        ringdown_time: Nanos::ZERO,
        use_: RfUse::Excitation,
    }
}

fn adc(n: u64, dwell: i64, delay: i64) -> Event {
    Event::Adc(Adc {
        num_samples: n,
        dwell: Nanos(dwell),
        delay: Nanos(delay),
        freq_offset: 0.0,
        phase_offset: 0.0,
        freq_ppm: 0.0,
        phase_ppm: 0.0,
        dead_time: Nanos::ZERO,
        phase_modulation: vec![],
    })
}

fn label(op: LabelOp, name: &'static str, value: i64) -> Event {
    Event::Label(LabelEvent {
        op,
        label: name,
        value,
    })
}

#[test]
fn builds_deduplicates_and_round_trips() {
    let sys = System::default();
    let mut b = SequenceBuilder::new(&sys);
    for line in 0..8 {
        let mut rf = block_rf(250.0, 500);
        rf.phase_offset = if line % 2 == 0 {
            0.0
        } else {
            std::f64::consts::PI
        };
        b.add_block(&[Event::Rf(rf), trap(Channel::Z, 1e5, 20_000, 500_000, 0)])
            .unwrap();
        b.add_block(&[
            trap(Channel::Y, (line as f64 - 4.0) * 100.0, 100_000, 100_000, 0),
            trap(Channel::X, -3.7e4, 100_000, 100_000, 0),
            label(LabelOp::Set, "LIN", line),
        ])
        .unwrap();
        b.add_block(&[
            trap(Channel::X, 2e4, 100_000, 640_000, 0),
            adc(64, 10_000, 100_000),
        ])
        .unwrap();
    }
    assert_eq!(b.n_blocks(), 24);
    let seq = b.finish().unwrap();
    // Two RF events (phase 0 and π) sharing one magnitude shape; 8 y trapezoids, 1 slice, 2 x.
    assert_eq!(seq.rf.len(), 2);
    assert_eq!(seq.grad.len(), 8 + 1 + 2);
    assert_eq!(seq.adc.len(), 1);
    assert_eq!(seq.labelset.len(), 8);
    // Block durations: the latest event end.
    assert_eq!(seq.blocks[0].duration, Nanos(540_000));
    assert_eq!(seq.blocks[2].duration, Nanos(840_000));
    let text = write_string(&seq, WriteOptions::default()).unwrap();
    let back = accord_seq::read_str(&text).unwrap();
    assert_eq!(back.blocks.len(), 24);
    for (a, b) in back.blocks.iter().zip(&seq.blocks) {
        assert_eq!(a.duration, b.duration);
    }
    assert!(back.signature.as_ref().unwrap().matches());
    let total = accord_seq::summary::SeqSummary::new(&back).total_duration_s;
    assert!((total - 8.0 * (540e-6 + 300e-6 + 840e-6)).abs() < 1e-12);
    let rep = accord_seq::timing::check_timing(&back, &sys.timing_limits());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
}

#[test]
fn block_raster_and_multiplicity_errors() {
    let sys = System::default();
    let mut b = SequenceBuilder::new(&sys);
    let e = b.add_block(&[adc(100, 1_550, 0)]).unwrap_err().to_string();
    assert!(
        e.contains("block 1") && e.contains("155.000 µs") && e.contains("not a multiple"),
        "{e}"
    );
    let e = b
        .add_block(&[
            trap(Channel::X, 1.0, 10_000, 0, 0),
            trap(Channel::X, 1.0, 10_000, 0, 0),
        ])
        .unwrap_err()
        .to_string();
    assert!(e.contains("more than one gradient on x"), "{e}");
    let e = b
        .add_block(&[trap(Channel::X, f64::NAN, 10_000, 0, 0)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("NaN"), "{e}");
    assert_eq!(b.n_blocks(), 0, "failed blocks must not be added");
    b.add_block(&[Event::Delay(Nanos(10_000))]).unwrap();
    assert_eq!(b.n_blocks(), 1);
}

#[test]
fn gradient_continuity_is_checked() {
    let sys = System::default();
    let ramp_up = |end: f64| {
        Event::Grad(Grad::Arb(ArbitraryGrad {
            channel: Channel::X,
            waveform: vec![0.0, end],
            tt: vec![0.0, 100e-6],
            timing: GradTiming::TimeShape,
            shape_dur: Nanos(100_000),
            delay: Nanos::ZERO,
            first: 0.0,
            last: end,
        }))
    };
    let ramp_down = |start: f64| {
        Event::Grad(Grad::Arb(ArbitraryGrad {
            channel: Channel::X,
            waveform: vec![start, 0.0],
            tt: vec![0.0, 100e-6],
            timing: GradTiming::TimeShape,
            shape_dur: Nanos(100_000),
            delay: Nanos::ZERO,
            first: start,
            last: 0.0,
        }))
    };
    let mut b = SequenceBuilder::new(&sys);
    b.add_block(&[ramp_up(5e5)]).unwrap();
    let e = b
        .add_block(&[Event::Delay(Nanos(10_000))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no x gradient to continue it"), "{e}");
    let e = b.add_block(&[ramp_down(4e5)]).unwrap_err().to_string();
    assert!(
        e.contains("starts at 400000") && e.contains("ends at 500000"),
        "{e}"
    );
    let unfinished = b.clone().finish().unwrap_err().to_string();
    assert!(
        unfinished.contains("ends with the x gradient"),
        "{unfinished}"
    );
    b.add_block(&[ramp_down(5e5)]).unwrap();
    let seq = b.finish().unwrap();
    let Gradient::Arb(g) = &seq.grad[&1] else {
        panic!("arbitrary gradient expected")
    };
    assert_eq!((g.first, g.last, g.amp), (Some(0.0), Some(5e5), 5e5));
    // Extended trapezoid time shape in gradient-raster units.
    assert_eq!(seq.shapes[&(g.time_id as u32)].samples, vec![0.0, 10.0]);
}

#[test]
fn extension_lists_are_shared() {
    let sys = System::default();
    let mut b = SequenceBuilder::new(&sys);
    for k in 0..4 {
        b.add_block(&[
            label(LabelOp::Set, "SLC", k % 2),
            label(LabelOp::Inc, "LIN", 1),
            Event::Delay(Nanos(10_000)),
        ])
        .unwrap();
    }
    let seq = b.finish().unwrap();
    assert_eq!(seq.extensions.len(), 4, "two distinct lists of two nodes");
    assert_eq!(seq.blocks[0].ext, seq.blocks[2].ext);
    assert_ne!(seq.blocks[0].ext, seq.blocks[1].ext);
    let names: Vec<&str> = seq
        .extension_specs
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["LABELSET", "LABELINC"]);
}

#[test]
fn test_report_and_hardware_check() {
    let sys = System::default();
    let mut b = SequenceBuilder::new(&sys);
    for line in 0..8 {
        b.add_block(&[
            Event::Rf(block_rf(250.0, 500)),
            trap(Channel::Z, 1e5, 20_000, 500_000, 0),
        ])
        .unwrap();
        b.add_block(&[
            trap(Channel::Y, (line as f64 - 4.0) * 100.0, 100_000, 100_000, 0),
            trap(Channel::X, -3.7e4, 100_000, 100_000, 0),
        ])
        .unwrap();
        b.add_block(&[
            trap(Channel::X, 2e4, 100_000, 640_000, 0),
            adc(64, 10_000, 100_000),
        ])
        .unwrap();
    }
    let seq = b.finish().unwrap();
    let r = accord_seq::report::test_report(&seq, &sys);
    // 250 Hz for 500 µs = 0.125 cycles = 45°.
    assert_eq!(r.flip_angles_deg, vec![45.0]);
    // Excitation at 20 + 250 µs; the k = 0 crossing lies between samples 31 and 32 of the
    // readout (block start 840 µs + delay 100 µs + 31.5·10 µs); the first of the two equal
    // |k| samples is taken: 840 + 100 + 315 − 270 = 985 µs.
    assert_eq!(r.te_ms.len(), 1);
    assert!((r.te_ms[0] - 0.985).abs() < 1e-9, "{:?}", r.te_ms);
    assert!(
        (r.tr_ms[0] - 1.68).abs() < 1e-9 && r.tr_ms.len() == 1,
        "{:?}",
        r.tr_ms
    );
    assert!((r.max_grad_mt_per_m[2] - 1e5 / 42.576e3).abs() < 1e-9);
    assert!((r.max_slew_t_per_m_per_s[2] - 1e5 / 20e-6 / 42.576e6).abs() < 1e-9);
    // Energy: 250² Hz² × 500 µs per RF block.
    assert!((r.rf_energy_per_block[0] - 250.0f64.powi(2) * 500e-6).abs() < 1e-9);
    assert_eq!(r.rf_energy_per_block[1], 0.0);
    assert!((r.rf_energy_total - 8.0 * 31.25).abs() < 1e-9);
    assert!(accord_seq::report::check_hardware(&seq, &sys).is_empty());

    let mut b = SequenceBuilder::new(&sys);
    b.add_block(&[trap(Channel::Y, 2e6, 20_000, 100_000, 0)])
        .unwrap();
    let v = accord_seq::report::check_hardware(&b.finish().unwrap(), &sys);
    let text: Vec<String> = v.iter().map(|v| v.to_string()).collect();
    assert_eq!(v.len(), 2, "{text:?}");
    assert!(
        text[0].contains("block 1: y gradient amplitude 46.975 mT/m exceeds the limit 40.000 mT/m"),
        "{text:?}"
    );
    assert!(
        text[1].contains("slew") && text[1].contains("2348.741 T/m/s"),
        "{text:?}"
    );
}

#[test]
fn registered_events_build_the_same_sequence() {
    // A phase-encoding train built twice: with plain events, and with the gradients and the
    // readout registered once and reused by id. Same libraries, same blocks, same file.
    let sys = System::default();
    let lines = 16;
    let pe = |k: i64| trap(Channel::Y, 1000.0 * (k - 8) as f64, 100_000, 200_000, 0);
    let build = |registered: bool| {
        let mut b = SequenceBuilder::new(&sys);
        let reg = |b: &mut SequenceBuilder, e: Event| {
            if registered {
                Event::from(b.register(&e).unwrap())
            } else {
                e
            }
        };
        // Registered in the order of first use, so that the library ids are the same.
        let mut pes = vec![reg(&mut b, pe(0))];
        let gx = reg(&mut b, trap(Channel::X, 2e5, 100_000, 500_000, 0));
        let ro = reg(&mut b, adc(64, 5000, 100_000));
        for k in 1..lines {
            pes.push(reg(&mut b, pe(k)));
        }
        for _ in 0..2 {
            for (k, g) in pes.iter().enumerate() {
                b.add_block(&[Event::Rf(block_rf(250.0, 100))]).unwrap();
                b.add_block(std::slice::from_ref(g)).unwrap();
                b.add_block(&[gx.clone(), ro.clone(), label(LabelOp::Set, "LIN", k as i64)])
                    .unwrap();
            }
        }
        b.finish().unwrap()
    };
    let plain = build(false);
    let reused = build(true);
    assert_eq!(plain.blocks, reused.blocks);
    assert_eq!(plain.grad, reused.grad);
    assert_eq!(plain.adc, reused.adc);
    assert_eq!(plain.grad.len(), lines as usize + 1);
    let opts = WriteOptions::default();
    assert_eq!(
        write_string(&plain, opts).unwrap(),
        write_string(&reused, opts).unwrap()
    );
}

#[test]
fn registered_event_rules() {
    let sys = System::default();
    let mut a = SequenceBuilder::new(&sys);
    let mut b = SequenceBuilder::new(&sys);
    let gy = a.register(&trap(Channel::Y, 1e5, 100_000, 0, 0)).unwrap();
    assert!(a.holds(&gy) && !b.holds(&gy));
    // Another builder's event is refused, and so is a clone's (its libraries may diverge).
    let e = b.add_block(&[gy.into()]).unwrap_err().to_string();
    assert!(e.contains("another SequenceBuilder"), "{e}");
    let e = a.clone().add_block(&[gy.into()]).unwrap_err().to_string();
    assert!(e.contains("another SequenceBuilder"), "{e}");
    // One gradient per axis, registered or not.
    let e = a
        .add_block(&[gy.into(), trap(Channel::Y, 2e5, 100_000, 0, 0)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("block 1: more than one gradient on y"), "{e}");
    // Only RF, gradients and ADCs; the checks of add_block apply when registering.
    let e = a
        .register(&label(LabelOp::Set, "LIN", 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("only RF pulses, gradients and ADCs"), "{e}");
    let e = a
        .register(&trap(Channel::X, f64::NAN, 100_000, 0, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("trapezoid amplitude is NaN"), "{e}");
    // Registered gradients keep their end values for the continuity check.
    let up = a
        .register(&Event::Grad(Grad::Arb(ArbitraryGrad {
            channel: Channel::X,
            waveform: vec![0.0, 5e5],
            tt: vec![0.0, 100e-6],
            timing: GradTiming::TimeShape,
            shape_dur: Nanos(100_000),
            delay: Nanos::ZERO,
            first: 0.0,
            last: 5e5,
        })))
        .unwrap();
    assert_eq!((up.first, up.last, up.duration), (0.0, 5e5, Nanos(100_000)));
    a.add_block(&[up.into()]).unwrap();
    let e = a
        .add_block(&[Event::Delay(Nanos(10_000))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no x gradient to continue it"), "{e}");
}
