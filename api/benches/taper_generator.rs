//! The taper generator's speed (figures only, no assertions): for every
//! catalog opioid at a typical dose (CLINICAL.md strengths and CDC 2022
//! factors) and each preset, the time per `generate` call, plus two custom
//! plans (the 25%-weekly morphine plan that warns, and a slow one).
//!
//! ```sh
//! cargo bench -p stepdown --bench taper_generator
//! ```
//!
//! `BENCH_RUNS` (default 20000) sets the calls per case.

use std::time::Instant;

use chrono::NaiveDate;
use stepdown::tapering::schedule::{Drug, PlanRequest, Rule, generate};

/// Name, strengths, factor, per hour, MOUD, methadone, typical daily dose.
type Entry = (
    &'static str,
    &'static [f64],
    Option<f64>,
    bool,
    bool,
    bool,
    f64,
);

const CATALOG: [Entry; 11] = [
    (
        "codeine",
        &[15.0, 30.0, 60.0],
        Some(0.15),
        false,
        false,
        false,
        120.0,
    ),
    (
        "fentanyl transdermal",
        &[12.5, 25.0, 50.0, 75.0, 100.0],
        Some(2.4),
        true,
        false,
        false,
        25.0,
    ),
    (
        "hydrocodone",
        &[5.0, 7.5, 10.0],
        Some(1.0),
        false,
        false,
        false,
        22.5,
    ),
    (
        "hydromorphone",
        &[2.0, 4.0, 8.0],
        Some(5.0),
        false,
        false,
        false,
        16.0,
    ),
    (
        "methadone",
        &[1.0, 5.0, 10.0],
        Some(4.7),
        false,
        false,
        true,
        40.0,
    ),
    (
        "morphine",
        &[15.0, 30.0, 60.0, 100.0],
        Some(1.0),
        false,
        false,
        false,
        120.0,
    ),
    (
        "oxycodone",
        &[5.0, 10.0, 15.0, 20.0, 30.0],
        Some(1.5),
        false,
        false,
        false,
        60.0,
    ),
    (
        "oxymorphone",
        &[5.0, 10.0],
        Some(3.0),
        false,
        false,
        false,
        40.0,
    ),
    (
        "tapentadol",
        &[50.0, 75.0, 100.0],
        Some(0.4),
        false,
        false,
        false,
        225.0,
    ),
    ("tramadol", &[50.0], Some(0.2), false, false, false, 200.0),
    ("buprenorphine", &[2.0, 8.0], None, false, true, false, 16.0),
];

fn main() {
    let runs: u32 = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let starts_on = NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    let custom = |reduction_percent, step_days| Rule::Custom {
        reduction_percent,
        step_days,
    };
    println!("taper generator, µs per generate call ({runs} calls each):");
    for (name, strengths, mme_factor, per_hour, moud, methadone, dose) in CATALOG {
        let rules: &[(&str, Rule)] = if moud {
            // The CDC presets are refused for MOUD: a custom plan instead.
            &[("CUSTOM 10%/14 days", custom(10.0, 14))]
        } else {
            &[
                ("CDC_LONG_TERM", Rule::CdcLongTerm),
                ("CDC_SHORT_TERM", Rule::CdcShortTerm),
            ]
        };
        for &(rule_name, rule) in rules {
            let request = PlanRequest {
                starting_daily_dose: dose,
                target_daily_dose: 0.0,
                starts_on,
                rule,
                follow_up_every_days: 28,
                drug: Drug {
                    strengths: strengths.to_vec(),
                    mme_factor,
                    per_hour,
                    moud,
                    methadone,
                },
                regimen_daily_dose: None,
                oud_order: false,
            };
            measure(&format!("{name} {dose} {rule_name}"), &request, runs);
        }
    }
    let morphine = |rule| PlanRequest {
        starting_daily_dose: 300.0,
        target_daily_dose: 0.0,
        starts_on,
        rule,
        follow_up_every_days: 28,
        drug: Drug {
            strengths: vec![15.0, 30.0, 60.0, 100.0],
            mme_factor: Some(1.0),
            per_hour: false,
            moud: false,
            methadone: false,
        },
        regimen_daily_dose: None,
        oud_order: false,
    };
    measure(
        "morphine 300 CUSTOM 25%/7 days",
        &morphine(custom(25.0, 7)),
        runs,
    );
    measure(
        "morphine 300 CUSTOM 5%/14 days",
        &morphine(custom(5.0, 14)),
        runs,
    );
}

fn measure(case: &str, request: &PlanRequest, runs: u32) {
    let plan = generate(request).expect("plan");
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(generate(std::hint::black_box(request)).ok());
    }
    let each = started.elapsed() / runs;
    println!(
        "  {case:<40} {:>3} steps, {:>2} warnings: {:>6.2} µs",
        plan.steps.len(),
        plan.warnings.len(),
        each.as_secs_f64() * 1e6
    );
}
