//! The generator's tests (a child module of `schedule`).

use crate::error::InputError;
use crate::tapering::dispensable::Dispensable;
use crate::tapering::schedule::*;
use chrono::NaiveDate;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Med {
    Codeine,
    Fentanyl,
    Hydrocodone,
    Hydromorphone,
    Methadone,
    Morphine,
    Oxycodone,
    Oxymorphone,
    Tapentadol,
    Tramadol,
    Buprenorphine,
}

/// CLINICAL.md, "Common US dispensable strengths (catalog seed)" and the
/// CDC 2022 factors.
fn drug(med: Med) -> Drug {
    let (strengths, factor): (&[f64], Option<f64>) = match med {
        Med::Codeine => (&[15.0, 30.0, 60.0], Some(0.15)),
        Med::Fentanyl => (&[12.5, 25.0, 50.0, 75.0, 100.0], Some(2.4)),
        Med::Hydrocodone => (&[5.0, 7.5, 10.0], Some(1.0)),
        Med::Hydromorphone => (&[2.0, 4.0, 8.0], Some(5.0)),
        Med::Methadone => (&[1.0, 5.0, 10.0], Some(4.7)),
        Med::Morphine => (&[15.0, 30.0, 60.0, 100.0], Some(1.0)),
        Med::Oxycodone => (&[5.0, 10.0, 15.0, 20.0, 30.0], Some(1.5)),
        Med::Oxymorphone => (&[5.0, 10.0], Some(3.0)),
        Med::Tapentadol => (&[50.0, 75.0, 100.0], Some(0.4)),
        Med::Tramadol => (&[50.0], Some(0.2)),
        Med::Buprenorphine => (&[2.0, 8.0], None),
    };
    Drug {
        strengths: strengths.to_vec(),
        mme_factor: factor,
        per_hour: matches!(med, Med::Fentanyl),
        moud: matches!(med, Med::Buprenorphine),
        methadone: matches!(med, Med::Methadone),
    }
}

fn request(med: Med, start: f64, rule: Rule) -> PlanRequest {
    PlanRequest {
        starting_daily_dose: start,
        target_daily_dose: 0.0,
        starts_on: date("2026-01-05"),
        rule,
        follow_up_every_days: 28,
        drug: drug(med),
        regimen_daily_dose: None,
        oud_order: false,
    }
}

fn custom(reduction_percent: f64, step_days: u32) -> Rule {
    Rule::Custom {
        reduction_percent,
        step_days,
    }
}

fn doses(plan: &Plan) -> Vec<f64> {
    plan.steps.iter().map(|s| s.daily_dose).collect()
}

fn days(plan: &Plan) -> Vec<i64> {
    plan.steps.iter().map(Step::days).collect()
}

fn codes(plan: &Plan) -> Vec<WarningCode> {
    plan.warnings.iter().map(|w| w.code).collect()
}

/// Every step after the first is dispensable, doses never rise, the
/// dates are contiguous, the plan ends at the target after the smallest
/// strength.
fn assert_well_formed(r: &PlanRequest, plan: &Plan) {
    let d = Dispensable::new(&r.drug.strengths, r.starting_daily_dose).unwrap();
    let steps = &plan.steps;
    assert_eq!(steps[0].daily_dose, r.starting_daily_dose);
    assert_eq!(steps.last().unwrap().daily_dose, r.target_daily_dose);
    for s in &steps[1..] {
        assert!(
            d.contains(s.daily_dose),
            "{} is not dispensable",
            s.daily_dose
        );
    }
    for pair in steps.windows(2) {
        assert!(pair[1].daily_dose < pair[0].daily_dose, "{pair:?}");
        assert_eq!(
            pair[1].starts_on,
            pair[0].ends_on + chrono::Duration::days(1)
        );
    }
    let unit = r.drug.unit();
    if r.target_daily_dose == 0.0 && r.starting_daily_dose > unit {
        assert_eq!(
            steps[steps.len() - 2].daily_dose,
            unit,
            "ends after one unit"
        );
    }
}

/// CLINICAL.md examples of daily MME (CDC 2022 factors).
#[test]
fn mme_reference_values() {
    let cases = [
        ("oxycodone 60 mg/day", 60.0, 1.5, 90.0),
        ("oxycodone 10 mg four times a day", 40.0, 1.5, 60.0),
        ("fentanyl patch 25 mcg/hr", 25.0, 2.4, 60.0),
        ("methadone 20 mg/day", 20.0, 4.7, 94.0),
        ("hydromorphone 8 mg/day", 8.0, 5.0, 40.0),
        ("tramadol 200 mg/day", 200.0, 0.2, 40.0),
        ("codeine 120 mg/day", 120.0, 0.15, 18.0),
    ];
    for (case, dose, factor, mme) in cases {
        let got = daily_mme(dose, Some(factor)).unwrap();
        assert!((got - mme).abs() < 1e-9, "{case}: {got}");
    }
    assert_eq!(daily_mme(16.0, None), None, "buprenorphine has no factor");
}

/// CLINICAL.md: "40 mg oxycodone, CDC long-term: 4 mg per 28 days < one 5
/// mg unit → cut 5 mg after 35 days".
#[test]
fn oxycodone_40_long_term_cuts_5_mg_after_35_days() {
    let r = request(Med::Oxycodone, 40.0, Rule::CdcLongTerm);
    let plan = generate(&r).unwrap();
    assert_well_formed(&r, &plan);
    assert_eq!(
        doses(&plan),
        [40.0, 35.0, 30.0, 25.0, 20.0, 15.0, 10.0, 5.0, 0.0]
    );
    assert_eq!(plan.steps[0].days(), 35);
    assert_eq!(plan.steps[4].days(), 35, "at 20 mg one unit is exactly 25%");
    // CLINICAL.md: "when one unit is more than 25% of the current dose, each
    // remaining step lasts twice as long".
    assert_eq!(&days(&plan)[5..8], [70, 70, 70]);
    assert!(plan.warnings.is_empty());
}

/// The catalog opioids at real doses on both presets (CLINICAL.md
/// strengths; "the next dose is the smallest dispensable dose not below the
/// rule's next dose"): all steps dispensable, never rising, no warnings.
#[test]
fn catalog_opioids_on_both_presets() {
    use Med::*;
    type Case = (&'static str, Med, f64, Rule, &'static [f64], &'static [i64]);
    let cases: &[Case] = &[
        // "fentanyl's "12" patch delivers 12.5 mcg/hr": 2.5 mcg/hr per 28
        // days < one 12.5 unit → 28 × 12.5 / 2.5 = 140 days, doubled.
        (
            "fentanyl 25 long-term",
            Fentanyl,
            25.0,
            Rule::CdcLongTerm,
            &[25.0, 12.5, 0.0],
            &[280, 280, 28],
        ),
        (
            "fentanyl 25 short-term",
            Fentanyl,
            25.0,
            Rule::CdcShortTerm,
            &[25.0, 12.5, 0.0],
            &[70, 70, 7],
        ),
        (
            "fentanyl 75 long-term",
            Fentanyl,
            75.0,
            Rule::CdcLongTerm,
            &[75.0, 62.5, 50.0, 37.5, 25.0, 12.5, 0.0],
            &[47, 47, 47, 94, 94, 94, 28],
        ),
        (
            "fentanyl 75 short-term",
            Fentanyl,
            75.0,
            Rule::CdcShortTerm,
            &[75.0, 62.5, 50.0, 37.5, 25.0, 12.5, 0.0],
            &[12, 12, 12, 24, 24, 140, 7],
        ),
        // "hydrocodone 22.5 mg = 3 × 7.5": 2.25 mg per 28 days → 2.5 mg
        // over 32 days.
        (
            "hydrocodone 22.5 long-term",
            Hydrocodone,
            22.5,
            Rule::CdcLongTerm,
            &[22.5, 20.0, 17.5, 15.0, 12.5, 10.0, 7.5, 5.0, 0.0],
            &[32, 32, 64, 64, 64, 64, 64, 126, 28],
        ),
        (
            "hydrocodone 22.5 short-term",
            Hydrocodone,
            22.5,
            Rule::CdcShortTerm,
            &[22.5, 20.0, 17.5, 15.0, 12.5, 10.0, 7.5, 5.0, 0.0],
            &[8, 8, 16, 16, 16, 16, 16, 140, 7],
        ),
        // "tapentadol 225 mg = 3 × 75".
        (
            "tapentadol 225 long-term",
            Tapentadol,
            225.0,
            Rule::CdcLongTerm,
            &[225.0, 200.0, 175.0, 150.0, 125.0, 100.0, 75.0, 50.0, 0.0],
            &[32, 32, 64, 64, 64, 64, 64, 126, 28],
        ),
        (
            "tapentadol 225 short-term",
            Tapentadol,
            225.0,
            Rule::CdcShortTerm,
            &[225.0, 200.0, 175.0, 150.0, 125.0, 100.0, 75.0, 50.0, 0.0],
            &[8, 8, 16, 16, 16, 16, 16, 140, 7],
        ),
        (
            "codeine 240 short-term",
            Codeine,
            240.0,
            Rule::CdcShortTerm,
            &[
                240.0, 225.0, 210.0, 195.0, 180.0, 165.0, 150.0, 135.0, 120.0, 105.0, 90.0, 75.0,
                60.0, 45.0, 30.0, 15.0, 0.0,
            ],
            &[7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 18, 36, 36, 36, 7],
        ),
        (
            "hydromorphone 16 long-term",
            Hydromorphone,
            16.0,
            Rule::CdcLongTerm,
            &[16.0, 14.0, 12.0, 10.0, 8.0, 6.0, 4.0, 2.0, 0.0],
            &[35, 35, 35, 35, 35, 70, 70, 70, 28],
        ),
        (
            "oxymorphone 40 short-term",
            Oxymorphone,
            40.0,
            Rule::CdcShortTerm,
            &[40.0, 35.0, 30.0, 25.0, 20.0, 15.0, 10.0, 5.0, 0.0],
            &[9, 9, 9, 9, 9, 18, 70, 70, 7],
        ),
        // Tramadol's only strength is 50 mg: 20 mg per 28 days → 50 mg
        // over 70 days.
        (
            "tramadol 200 long-term",
            Tramadol,
            200.0,
            Rule::CdcLongTerm,
            &[200.0, 150.0, 100.0, 50.0, 0.0],
            &[70, 140, 140, 140, 28],
        ),
        // "morphine 45 mg = 15 + 30"; 115 = 100 + 15.
        (
            "morphine 120 short-term",
            Morphine,
            120.0,
            Rule::CdcShortTerm,
            &[
                120.0, 115.0, 105.0, 100.0, 90.0, 75.0, 60.0, 45.0, 30.0, 15.0, 0.0,
            ],
            &[7, 7, 7, 7, 9, 9, 9, 18, 70, 70, 7],
        ),
        (
            "oxycodone 60 short-term",
            Oxycodone,
            60.0,
            Rule::CdcShortTerm,
            &[
                60.0, 55.0, 50.0, 45.0, 40.0, 35.0, 30.0, 25.0, 20.0, 15.0, 10.0, 5.0, 0.0,
            ],
            &[7, 7, 7, 7, 7, 7, 7, 7, 7, 48, 48, 48, 7],
        ),
    ];
    for (case, med, start, rule, want_doses, want_days) in cases {
        let r = request(*med, *start, *rule);
        let plan = generate(&r).unwrap();
        assert_well_formed(&r, &plan);
        assert_eq!(doses(&plan), *want_doses, "{case}");
        assert_eq!(days(&plan), *want_days, "{case}");
        assert!(plan.warnings.is_empty(), "{case}: {:?}", plan.warnings);
    }
    // Every other catalog opioid at a typical dose, both presets.
    for (med, start) in [
        (Codeine, 120.0),
        (Hydromorphone, 8.0),
        (Morphine, 90.0),
        (Oxycodone, 30.0),
        (Oxymorphone, 20.0),
        (Tapentadol, 150.0),
        (Tramadol, 300.0),
        (Hydrocodone, 30.0),
        (Fentanyl, 50.0),
    ] {
        for rule in [Rule::CdcLongTerm, Rule::CdcShortTerm] {
            let r = request(med, start, rule);
            let plan = generate(&r).unwrap();
            assert_well_formed(&r, &plan);
            assert!(
                plan.warnings.is_empty(),
                "{start} {rule:?}: {:?}",
                plan.warnings
            );
        }
    }
}

/// CLINICAL.md, methadone under a preset: "each cut at most 10% of the
/// current dose (the next dose is the smallest dispensable dose not below
/// both the rule's next dose and 90% of the current dose, and at least 1 mg
/// less), steps of at least 14 days".
#[test]
fn methadone_presets_cut_at_most_10_percent_every_14_days_or_slower() {
    let long_20 = generate(&request(Med::Methadone, 20.0, Rule::CdcLongTerm)).unwrap();
    assert_eq!(
        doses(&long_20),
        [
            20.0, 18.0, 17.0, 16.0, 15.0, 14.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0,
            4.0, 3.0, 2.0, 1.0, 0.0
        ]
    );
    let short_40 = generate(&request(Med::Methadone, 40.0, Rule::CdcShortTerm)).unwrap();
    assert_eq!(
        &doses(&short_40)[..8],
        [40.0, 36.0, 33.0, 30.0, 27.0, 25.0, 23.0, 21.0]
    );
    assert_eq!(short_40.steps[0].days(), 14, "7-day steps become 14");
    for (start, rule) in [
        (20.0, Rule::CdcLongTerm),
        (20.0, Rule::CdcShortTerm),
        (40.0, Rule::CdcLongTerm),
        (40.0, Rule::CdcShortTerm),
    ] {
        let r = request(Med::Methadone, start, rule);
        let plan = generate(&r).unwrap();
        assert_well_formed(&r, &plan);
        for pair in plan.steps.windows(2) {
            let cut = pair[0].daily_dose - pair[1].daily_dose;
            assert!(
                cut <= 0.10 * pair[0].daily_dose + 1e-9 || cut <= 1.0,
                "{pair:?}"
            );
            assert!(pair[0].days() >= 14);
        }
        assert!(
            plan.warnings.is_empty(),
            "{start} {rule:?}: {:?}",
            plan.warnings
        );
    }
    // A custom methadone plan faster than the label warns.
    let fast = generate(&request(Med::Methadone, 40.0, custom(20.0, 7))).unwrap();
    assert!(codes(&fast).contains(&WarningCode::MethadonePace));
    let gentle = generate(&request(Med::Methadone, 40.0, custom(5.0, 14))).unwrap();
    assert!(
        !codes(&gentle).contains(&WarningCode::MethadonePace),
        "{:?}",
        gentle.warnings
    );
}

/// CLINICAL.md: "custom 25% every 7 days from 300 mg morphine warns" — a
/// slow tail must not hide a fast start.
#[test]
fn morphine_300_custom_25_percent_weekly_warns() {
    let r = request(Med::Morphine, 300.0, custom(25.0, 7));
    let plan = generate(&r).unwrap();
    assert_well_formed(&r, &plan);
    assert_eq!(&doses(&plan)[..5], [300.0, 225.0, 175.0, 135.0, 105.0]);
    assert!(codes(&plan).contains(&WarningCode::FasterThanGuideline));
    // 10% of 300 every 7 days is exactly the guideline pace: no warning.
    let at_pace = generate(&request(Med::Morphine, 300.0, Rule::CdcShortTerm)).unwrap();
    assert!(at_pace.warnings.is_empty(), "{:?}", at_pace.warnings);
}

/// A fast first month is seen even behind a long slow tail.
#[test]
fn a_fast_start_is_not_averaged_away() {
    let step = |index: u32, from: &str, days: i64, dose: f64| Step {
        index,
        starts_on: date(from),
        ends_on: date(from) + chrono::Duration::days(days - 1),
        daily_dose: dose,
        daily_mme: None,
    };
    let r = request(Med::Oxycodone, 100.0, custom(10.0, 7));
    // 100 → 50 in 28 days (12.5% per week), then 50 → 0 over 2 years.
    let steps = [
        step(0, "2026-01-05", 28, 100.0),
        step(1, "2026-02-02", 365, 50.0),
        step(2, "2027-02-02", 365, 25.0),
        step(3, "2028-02-02", 28, 0.0),
    ];
    let warned: Vec<_> = check_guideline(&r, &steps)
        .into_iter()
        .map(|w| w.code)
        .collect();
    assert!(warned.contains(&WarningCode::FasterThanGuideline));
    assert!(warned.contains(&WarningCode::LargeSingleCut));
    assert!(
        warned.contains(&WarningCode::AbruptStop),
        "25 straight to 0"
    );
    // One unit at once never warns by itself, however soon.
    let r = request(Med::Tramadol, 100.0, custom(10.0, 7));
    let steps = [
        step(0, "2026-01-05", 3, 100.0),
        step(1, "2026-01-08", 300, 50.0),
        step(2, "2026-11-04", 7, 50.0),
    ];
    let warned: Vec<_> = check_guideline(&r, &steps)
        .into_iter()
        .map(|w| w.code)
        .collect();
    assert!(
        !warned.contains(&WarningCode::FasterThanGuideline),
        "{warned:?}"
    );
}

/// CLINICAL.md: "Any positive amount up to the plausibility bound (2,000
/// mg/day; 400 mcg/hr) is accepted, dispensable or not; the first cut lands
/// on a dispensable dose by the same rounding."
#[test]
fn any_real_prescription_is_accepted() {
    for (med, start) in [
        (Med::Oxycodone, 62.0),
        (Med::Fentanyl, 30.0),
        (Med::Morphine, 2000.0),
        (Med::Fentanyl, 400.0),
        (Med::Hydrocodone, 0.5),
    ] {
        for rule in [Rule::CdcLongTerm, Rule::CdcShortTerm, custom(10.0, 14)] {
            let r = request(med, start, rule);
            let plan = generate(&r).unwrap();
            assert_well_formed(&r, &plan);
            if rule.is_preset() {
                assert!(
                    plan.warnings.is_empty(),
                    "{start} {rule:?}: {:?}",
                    plan.warnings
                );
            }
        }
    }
    let plan = generate(&request(Med::Oxycodone, 62.0, Rule::CdcLongTerm)).unwrap();
    assert_eq!(
        &doses(&plan)[..3],
        [62.0, 60.0, 55.0],
        "62 − 6.2 rounds up to 60"
    );
    for (med, start) in [
        (Med::Morphine, 2000.5),
        (Med::Fentanyl, 401.0),
        (Med::Oxycodone, 0.0),
    ] {
        let r = request(med, start, Rule::CdcLongTerm);
        assert_eq!(
            generate(&r).unwrap_err().field,
            "startingDailyDose",
            "{start}"
        );
    }
}

/// CLINICAL.md: "The CDC pain presets do not apply to MOUD: a preset for it
/// is BAD_USER_INPUT (field preset); a CUSTOM plan is allowed with this
/// warning". "A methadone plan's indication is OUD when the patient has an
/// active methadone order for OUD".
#[test]
fn moud_plans_refuse_presets_and_carry_moud_taper() {
    for rule in [Rule::CdcLongTerm, Rule::CdcShortTerm] {
        let r = request(Med::Buprenorphine, 16.0, rule);
        assert_eq!(generate(&r).unwrap_err().field, "preset");
        let mut oud = request(Med::Methadone, 60.0, rule);
        oud.oud_order = true;
        assert_eq!(generate(&oud).unwrap_err().field, "preset");
    }
    let r = request(Med::Buprenorphine, 16.0, custom(10.0, 14));
    assert!(r.is_moud());
    let plan = generate(&r).unwrap();
    assert_well_formed(&r, &plan);
    assert!(codes(&plan).contains(&WarningCode::MoudTaper));
    let mut oud = request(Med::Methadone, 60.0, custom(5.0, 14));
    oud.oud_order = true;
    assert!(codes(&generate(&oud).unwrap()).contains(&WarningCode::MoudTaper));
    // Methadone for pain is not MOUD.
    let pain = request(Med::Methadone, 60.0, Rule::CdcLongTerm);
    assert!(!pain.is_moud());
    assert!(generate(&pain).unwrap().warnings.is_empty());
}

/// CLINICAL.md: STARTS_ABOVE_REGIMEN — "the plan's starting dose is above
/// their daily total (no orders: nothing to compare, no warning)".
#[test]
fn starting_above_the_regimen_warns() {
    let mut r = request(Med::Oxycodone, 60.0, Rule::CdcLongTerm);
    r.regimen_daily_dose = Some(40.0);
    assert_eq!(
        codes(&generate(&r).unwrap()),
        [WarningCode::StartsAboveRegimen]
    );
    r.regimen_daily_dose = Some(60.0);
    assert!(generate(&r).unwrap().warnings.is_empty());
    r.regimen_daily_dose = None;
    assert!(generate(&r).unwrap().warnings.is_empty());
}

#[test]
fn cdc_short_term_is_weekly_then_slower_below_30_percent() {
    let mut r = request(Med::Morphine, 100.0, Rule::CdcShortTerm);
    r.drug.strengths = vec![10.0];
    let plan = generate(&r).unwrap();
    let d = doses(&plan);
    // 10 mg (10% of 100) per week down to 30 mg…
    assert_eq!(&d[..8], &[100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0]);
    assert!(plan.steps[..7].iter().all(|s| s.days() == 7));
    // …then 10% of the remaining 30 mg = 3 mg/week < one 10 mg unit:
    // one unit over 7 × 10/3 → 24 days, doubled near the end → 48.
    assert_eq!(&d[8..], &[20.0, 10.0, 0.0]);
    assert_eq!(plan.steps[7].days(), 48);
    assert!(plan.warnings.is_empty());
}

#[test]
fn presets_name_their_rule_and_custom_needs_its_pace() {
    assert_eq!(
        Rule::for_preset(TaperPreset::CdcLongTerm, Some(50.0), None),
        Ok(Rule::CdcLongTerm)
    );
    assert_eq!(
        Rule::for_preset(TaperPreset::Custom, Some(10.0), Some(14)),
        Ok(custom(10.0, 14))
    );
    let field = |r: Result<Rule, InputError>| r.unwrap_err().field;
    assert_eq!(
        field(Rule::for_preset(TaperPreset::Custom, None, Some(14))),
        "reductionPercent"
    );
    assert_eq!(
        field(Rule::for_preset(TaperPreset::Custom, Some(10.0), None)),
        "stepDays"
    );
    assert_eq!(
        field(Rule::for_preset(TaperPreset::Custom, Some(10.0), Some(0))),
        "stepDays"
    );
    for preset in [
        TaperPreset::CdcLongTerm,
        TaperPreset::CdcShortTerm,
        TaperPreset::Custom,
    ] {
        assert_eq!(TaperPreset::parse(preset.as_str()), Some(preset));
    }
}

#[test]
fn a_plan_starts_at_most_a_week_back_and_a_year_ahead() {
    let today = date("2026-03-10");
    assert!(check_start(date("2026-03-03"), today).is_ok());
    assert!(check_start(date("2027-03-10"), today).is_ok());
    assert_eq!(
        check_start(date("2026-03-02"), today).unwrap_err().field,
        "startsOn"
    );
    assert_eq!(
        check_start(date("2027-03-11"), today).unwrap_err().field,
        "startsOn"
    );
}

/// CLINICAL.md: "For presets, a cut is never more than max(25% of the
/// current dose, one unit)".
#[test]
fn presets_cap_cuts_at_a_quarter_of_the_dose() {
    for rule in [Rule::CdcLongTerm, Rule::CdcShortTerm] {
        let plan = generate(&request(Med::Morphine, 300.0, rule)).unwrap();
        for pair in plan.steps.windows(2) {
            let cut = pair[0].daily_dose - pair[1].daily_dose;
            assert!(
                cut <= (0.25 * pair[0].daily_dose).max(15.0) + 1e-9,
                "{pair:?}"
            );
        }
        assert!(plan.warnings.is_empty());
    }
}

#[test]
fn custom_plans_warn_instead_of_changing() {
    // 50% every 3 days: far faster than 10%/week, and large single cuts.
    let plan = generate(&request(Med::Oxycodone, 60.0, custom(50.0, 3))).unwrap();
    let warned = codes(&plan);
    assert!(warned.contains(&WarningCode::FasterThanGuideline));
    assert!(warned.contains(&WarningCode::LargeSingleCut));
    assert_eq!(doses(&plan)[..3], [60.0, 30.0, 15.0]);

    // 100% at once: the plan still goes down through the smallest strength
    // ("a plan never skips the smallest strength on its way to 0"), and
    // warns about the cut.
    let r = request(Med::Oxycodone, 30.0, custom(100.0, 7));
    let stop = generate(&r).unwrap();
    assert_well_formed(&r, &stop);
    assert_eq!(doses(&stop), [30.0, 5.0, 0.0]);
    assert!(codes(&stop).contains(&WarningCode::LargeSingleCut));

    // A gentle custom plan with a long follow-up gap warns only for that.
    let mut gentle = request(Med::Oxycodone, 60.0, custom(5.0, 28));
    gentle.follow_up_every_days = 45;
    assert_eq!(
        codes(&generate(&gentle).unwrap()),
        [WarningCode::FollowUpGap]
    );
}

#[test]
fn bad_requests_name_their_field() {
    let mut r = request(Med::Oxycodone, -5.0, Rule::CdcLongTerm);
    assert_eq!(generate(&r).unwrap_err().field, "startingDailyDose");
    r.starting_daily_dose = 60.0;
    r.target_daily_dose = 70.0;
    assert_eq!(generate(&r).unwrap_err().field, "targetDailyDose");
    r.target_daily_dose = 12.0;
    assert_eq!(
        generate(&r).unwrap_err().field,
        "targetDailyDose",
        "not dispensable"
    );
    r.target_daily_dose = 0.0;
    r.follow_up_every_days = 60;
    assert_eq!(generate(&r).unwrap_err().field, "followUpEveryDays");
    let zero = request(Med::Oxycodone, 60.0, custom(0.0, 7));
    assert_eq!(generate(&zero).unwrap_err().field, "reductionPercent");
    let endless = request(Med::Morphine, 2000.0, custom(0.001, 365));
    assert_eq!(generate(&endless).unwrap_err().field, "reductionPercent");
    let mut none = request(Med::Oxycodone, 60.0, Rule::CdcLongTerm);
    none.drug.strengths.clear();
    assert_eq!(generate(&none).unwrap_err().field, "medicationId");
}

#[test]
fn a_target_above_zero_is_where_the_plan_ends() {
    let mut r = request(Med::Oxycodone, 60.0, Rule::CdcLongTerm);
    r.target_daily_dose = 20.0;
    let plan = generate(&r).unwrap();
    assert_eq!(doses(&plan).last(), Some(&20.0));
    assert!(doses(&plan).iter().all(|d| *d >= 20.0));
}

// Properties.
use proptest::prelude::*;

fn meds() -> impl Strategy<Value = Med> {
    use Med::*;
    prop_oneof![
        Just(Codeine),
        Just(Fentanyl),
        Just(Hydrocodone),
        Just(Hydromorphone),
        Just(Methadone),
        Just(Morphine),
        Just(Oxycodone),
        Just(Oxymorphone),
        Just(Tapentadol),
        Just(Tramadol),
    ]
}

fn presets() -> impl Strategy<Value = Rule> {
    prop_oneof![Just(Rule::CdcLongTerm), Just(Rule::CdcShortTerm)]
}

fn rules() -> impl Strategy<Value = Rule> {
    prop_oneof![
        presets(),
        (1.0f64..=100.0, 1u32..=60).prop_map(|(p, d)| custom(p, d)),
    ]
}

/// A start anywhere in the plausible range: often a whole number of
/// units, sometimes not.
fn start_for(med: Med) -> impl Strategy<Value = f64> {
    let bound = drug(med).max_daily_dose();
    prop_oneof![
        (1u32..=40).prop_map(move |n| (f64::from(n) * drug(med).unit()).min(bound)),
        (1u32..=(bound as u32 * 10)).prop_map(|n| f64::from(n) / 10.0),
    ]
}

fn cases() -> impl Strategy<Value = PlanRequest> {
    (meds(), rules()).prop_flat_map(|(med, rule)| {
        (start_for(med), 1u32..=30).prop_map(move |(start, follow_up)| {
            let mut r = request(med, start, rule);
            r.follow_up_every_days = follow_up;
            r
        })
    })
}

/// The obvious definition (CLINICAL.md, FASTER_THAN_GUIDELINE): every
/// run of consecutive steps `i..j` lasting 28 days or more (the whole
/// plan if shorter) whose fall from step i's dose to the dose after
/// step j exceeds 10% of the start per week and one unit.
fn faster_than_guideline(r: &PlanRequest, steps: &[Step]) -> bool {
    let reducing = steps.len() - 1;
    let total: i64 = steps[..reducing].iter().map(Step::days).sum();
    let unit = r.drug.unit();
    let start = r.starting_daily_dose;
    for i in 0..reducing {
        for j in i..reducing {
            let days: i64 = steps[i..=j].iter().map(Step::days).sum();
            let whole = i == 0 && j == reducing - 1;
            if days < 28 && !(whole && total < 28) {
                continue;
            }
            let fall = steps[i].daily_dose - steps[j + 1].daily_dose;
            if fall > 0.10 * start * days as f64 / 7.0 + 1e-9 && fall > unit + 1e-9 {
                return true;
            }
        }
    }
    false
}

proptest! {
    #[test]
    fn plans_are_dispensable_and_never_rise(r in cases()) {
        let plan = generate(&r).unwrap();
        let d = Dispensable::new(&r.drug.strengths, r.starting_daily_dose).unwrap();
        prop_assert_eq!(plan.steps[0].daily_dose, r.starting_daily_dose);
        prop_assert_eq!(plan.steps.last().unwrap().daily_dose, 0.0);
        for s in &plan.steps[1..] {
            prop_assert!(d.contains(s.daily_dose), "{} not dispensable", s.daily_dose);
        }
        for pair in plan.steps.windows(2) {
            prop_assert!(pair[1].daily_dose < pair[0].daily_dose);
            prop_assert_eq!(pair[1].starts_on, pair[0].ends_on + chrono::Duration::days(1));
        }
        if r.starting_daily_dose > r.drug.unit() {
            // Never skips the smallest strength on the way to 0.
            prop_assert_eq!(plan.steps[plan.steps.len() - 2].daily_dose, r.drug.unit());
        }
    }

    #[test]
    fn faster_than_guideline_fires_exactly_when_a_window_is_too_fast(r in cases()) {
        let plan = generate(&r).unwrap();
        prop_assert_eq!(
            plan.warnings.iter().any(|w| w.code == WarningCode::FasterThanGuideline),
            faster_than_guideline(&r, &plan.steps)
        );
    }

    #[test]
    fn presets_for_pain_opioids_never_warn(
        (med, rule) in (meds(), presets()),
        n in 1u32..=20_000,
    ) {
        let start = (f64::from(n) / 10.0).min(drug(med).max_daily_dose());
        let plan = generate(&request(med, start, rule)).unwrap();
        prop_assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn methadone_presets_cut_at_most_ten_percent(
        rule in presets(),
        n in 1u32..=20_000,
    ) {
        let start = f64::from(n) / 10.0;
        let plan = generate(&request(Med::Methadone, start, rule)).unwrap();
        for pair in plan.steps.windows(2) {
            let cut = pair[0].daily_dose - pair[1].daily_dose;
            prop_assert!(cut <= 0.10 * pair[0].daily_dose + 1e-9 || cut <= 1.0 + 1e-9,
                "{:?}", pair);
            prop_assert!(pair[0].days() >= 14);
        }
        prop_assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }
}
