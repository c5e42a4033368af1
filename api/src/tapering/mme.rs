//! The patient's total daily MME (CLINICAL.md, "Regimens and indication"):
//! pure, no database. Every opioid counts; for a medication with an ACTIVE
//! (or PAUSED) plan, the plan's current step replaces its orders; otherwise
//! its active orders count. Buprenorphine (no factor in the CDC 2022 table)
//! and methadone for OUD are excluded. Every figure names its table.

use std::collections::HashSet;

use uuid::Uuid;

/// The table every factor in the catalog comes from (CDC 2022, MMWR Recomm
/// Rep 71(3), p. 42). Stored and shown with every MME figure.
pub const CONVERSION_TABLE: &str = "CDC_2022";

// What a catalog medication is (the GraphQL enum and its stored form).
crate::stored::stored_enum!(
    MedicationKind {
        /// An opioid analgesic with a CDC 2022 factor (methadone included:
        /// its OUD use is an order's indication).
        Opioid => "OPIOID",
        /// A medication for opioid use disorder without an MME factor
        /// (buprenorphine).
        Moud => "MOUD",
        /// A benzodiazepine: no MME; listed for the co-prescription alert.
        Sedative => "SEDATIVE",
        /// An overdose reversal agent (naloxone).
        Reversal => "REVERSAL",
    }
);

// Why an order is given (the GraphQL enum and its stored form).
crate::stored::stored_enum!(
    MedicationIndication {
        /// Pain (the default).
        Pain => "PAIN",
        /// Opioid use disorder (buprenorphine always; methadone when so
        /// prescribed).
        Oud => "OUD",
    }
);

/// The indication an order gets: buprenorphine (kind MOUD) is always OUD,
/// anything else what was asked, PAIN by default.
pub fn indication_for(
    kind: MedicationKind,
    requested: Option<MedicationIndication>,
) -> MedicationIndication {
    match kind {
        MedicationKind::Moud => MedicationIndication::Oud,
        _ => requested.unwrap_or(MedicationIndication::Pain),
    }
}

/// The factor that turns a daily dose into MME, where the dose counts:
/// none without a CDC 2022 factor, and none for an OUD indication
/// (methadone's MME is shown for pain regimens only).
pub fn counted_factor(factor: Option<f64>, indication: MedicationIndication) -> Option<f64> {
    match indication {
        MedicationIndication::Oud => None,
        MedicationIndication::Pain => factor,
    }
}

/// Daily MME of a daily dose; `None` where the dose does not count.
pub fn daily_mme(
    daily_dose: f64,
    factor: Option<f64>,
    indication: MedicationIndication,
) -> Option<f64> {
    counted_factor(factor, indication).map(|f| daily_dose * f)
}

/// Where a line of the day's regimen comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An order in effect that day.
    Order,
    /// The step of an ACTIVE or PAUSED plan in effect that day (it replaces
    /// the medication's orders).
    PlanStep,
}

/// One medication's daily dose on a day, from an order or a plan step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmeLine {
    pub medication_id: Uuid,
    pub daily_dose: f64,
    /// The medication's CDC 2022 factor, if any.
    pub factor: Option<f64>,
    pub indication: MedicationIndication,
    pub source: Source,
}

/// The day's total daily MME; `None` when no line counts (no opioid, or
/// only buprenorphine / OUD methadone).
pub fn total(lines: &[MmeLine]) -> Option<f64> {
    let planned: HashSet<Uuid> = lines
        .iter()
        .filter(|l| l.source == Source::PlanStep)
        .map(|l| l.medication_id)
        .collect();
    lines
        .iter()
        .filter(|l| l.source == Source::PlanStep || !planned.contains(&l.medication_id))
        .filter_map(|l| daily_mme(l.daily_dose, l.factor, l.indication))
        .fold(None, |sum, mme| Some(sum.unwrap_or(0.0) + mme))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OXYCODONE: f64 = 1.5;
    const HYDROMORPHONE: f64 = 5.0;
    const METHADONE: f64 = 4.7;

    fn line(med: u128, dose: f64, factor: Option<f64>, source: Source) -> MmeLine {
        MmeLine {
            medication_id: Uuid::from_u128(med),
            daily_dose: dose,
            factor,
            indication: MedicationIndication::Pain,
            source,
        }
    }

    #[test]
    fn every_opioid_counts_and_a_plan_step_replaces_its_drugs_orders() {
        // CLINICAL.md factors (CDC 2022): oxycodone 1.5, hydromorphone 5.
        let oxy = line(1, 30.0, Some(OXYCODONE), Source::Order);
        let hydro = line(2, 4.0, Some(HYDROMORPHONE), Source::Order);
        assert_eq!(total(&[oxy, hydro]), Some(65.0));
        // An active oxycodone step of 20 mg replaces the 30 mg order.
        let step = line(1, 20.0, Some(OXYCODONE), Source::PlanStep);
        assert_eq!(total(&[oxy, hydro, step]), Some(50.0));
        assert_eq!(total(&[oxy, step]), Some(30.0));
        assert_eq!(total(&[]), None);
    }

    #[test]
    fn buprenorphine_and_oud_methadone_are_excluded() {
        // CLINICAL.md: buprenorphine has no factor in the 2022 table;
        // methadone's MME is shown for pain regimens only.
        let bup = line(3, 16.0, None, Source::Order);
        assert_eq!(total(&[bup]), None);
        let mut oud = line(4, 60.0, Some(METHADONE), Source::Order);
        oud.indication = MedicationIndication::Oud;
        assert_eq!(total(&[oud]), None);
        let pain = line(4, 20.0, Some(METHADONE), Source::Order);
        // CLINICAL.md: methadone 20 mg/day → 94 MME/day (2022).
        assert!((total(&[pain]).unwrap() - 94.0).abs() < 1e-9);
    }

    #[test]
    fn buprenorphine_is_always_oud() {
        use MedicationIndication::*;
        use MedicationKind::*;
        assert_eq!(indication_for(Moud, Some(Pain)), Oud);
        assert_eq!(indication_for(Opioid, None), Pain);
        assert_eq!(indication_for(Opioid, Some(Oud)), Oud);
    }
}
