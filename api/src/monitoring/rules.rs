//! The alert rules (CLINICAL.md), as pure functions: each looks at the
//! readings it needs and returns the alert to raise, naming its evidence and
//! suggesting an action. None of them ever changes a dose.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::scales::Instrument;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    WithdrawalModerateOrWorse,
    WorseningTrend,
    PainFunctionWorse,
    DoseAboveSchedule,
    NaloxoneOfferDue,
    HighCraving,
}

crate::stored::stored_enum!(impl AlertKind {
    WithdrawalModerateOrWorse => "WITHDRAWAL_MODERATE_OR_WORSE",
    WorseningTrend => "WORSENING_TREND",
    PainFunctionWorse => "PAIN_FUNCTION_WORSE",
    DoseAboveSchedule => "DOSE_ABOVE_SCHEDULE",
    NaloxoneOfferDue => "NALOXONE_OFFER_DUE",
    HighCraving => "HIGH_CRAVING",
});

impl AlertKind {
    /// Whether the patient is told their care team was notified.
    pub fn tells_patient(self) -> bool {
        !matches!(self, Self::NaloxoneOfferDue)
    }

    /// The title of the care team's notification.
    pub fn title(self) -> &'static str {
        match self {
            Self::WithdrawalModerateOrWorse => "Moderate or worse withdrawal during the taper",
            Self::WorseningTrend => "Symptoms worsening over three reports",
            Self::PainFunctionWorse => "Pain and function worse than at the taper's start",
            Self::DoseAboveSchedule => "Doses above the schedule",
            Self::NaloxoneOfferDue => "Naloxone offer due",
            Self::HighCraving => "High craving reported",
        }
    }

    /// The kind of the notifications an alert of this kind sends.
    pub fn notification_kind(self) -> String {
        format!("ALERT_{}", self.as_str())
    }
}

/// Where an alert stands: open until a clinician acknowledges it, then
/// resolved with a note of what was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

crate::stored::stored_enum!(impl AlertStatus {
    Open => "OPEN",
    Acknowledged => "ACKNOWLEDGED",
    Resolved => "RESOLVED",
});

/// An open alert for the same cause is not raised again within this time.
pub const DUPLICATE_WINDOW_HOURS: i64 = 24;

/// The care team's notification body: who, what, and what to do.
pub fn team_message(patient_name: &str, raised: &Raised) -> String {
    format!(
        "{patient_name}: {}. {}",
        raised.summary, raised.suggested_action
    )
}

/// The title of the patient's notification, when the alert tells them.
pub const PATIENT_TITLE: &str = "Your care team was notified";

/// The patient's notification body: their care team will review it, and
/// nothing about their dose changes by itself.
pub fn patient_message(raised: &Raised) -> String {
    format!(
        "{}. Your care team will review it; nothing about your dose changes by itself.",
        raised.summary
    )
}

/// A reading an alert points to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `CheckIn`, `WithdrawalAssessment`, `DoseLog`, `Patient`.
    pub resource: String,
    pub id: Uuid,
    /// What it showed, e.g. "SOWS 14 (moderate)".
    pub reading: String,
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub kind: AlertKind,
    /// The cause: the same open alert is not raised twice for it in 24 h.
    pub cause: String,
    pub summary: String,
    pub suggested_action: String,
    pub evidence: Vec<Evidence>,
}

fn evidence(resource: &str, id: Uuid, reading: String) -> Evidence {
    Evidence {
        resource: resource.to_owned(),
        id,
        reading,
    }
}

/// COWS ≥ 13 or SOWS ≥ 11 during an active taper (the plan is ACTIVE and
/// today, in the patient's time zone, is on or after its start).
pub fn withdrawal(
    instrument: Instrument,
    total: i32,
    assessment: Uuid,
    taper_active: bool,
) -> Option<Raised> {
    let threshold = match instrument {
        Instrument::Cows => 13,
        Instrument::Sows => 11,
    };
    (taper_active && total >= threshold).then(|| Raised {
        kind: AlertKind::WithdrawalModerateOrWorse,
        cause: format!("withdrawal:{}", instrument.as_str()),
        summary: format!(
            "{} withdrawal score {total} (moderate or worse) during an active taper",
            instrument.as_str()
        ),
        suggested_action: "Review: consider pausing the taper or slowing its pace.".into(),
        evidence: vec![evidence(
            "WithdrawalAssessment",
            assessment,
            format!("{} {total}", instrument.as_str()),
        )],
    })
}

/// A value strictly increasing over the patient's latest three reports
/// (`latest` oldest first; SOWS totals or craving scores).
pub fn worsening_trend(what: &str, latest: &[(Uuid, i32)], resource: &str) -> Option<Raised> {
    let [a, b, c] = latest else { return None };
    (a.1 < b.1 && b.1 < c.1).then(|| Raised {
        kind: AlertKind::WorseningTrend,
        cause: format!("trend:{what}"),
        summary: format!(
            "{what} rising over the last three reports: {}, {}, {}",
            a.1, b.1, c.1
        ),
        suggested_action: "Review: check in with the patient; consider pausing the taper.".into(),
        evidence: latest
            .iter()
            .map(|(id, v)| evidence(resource, *id, format!("{what} {v}")))
            .collect(),
    })
}

/// PEG ≥ 30% above the plan's baseline PEG.
pub fn pain_function_worse(current: (Uuid, f64), baseline: Option<(Uuid, f64)>) -> Option<Raised> {
    let (baseline_id, base) = baseline?;
    let (current_id, value) = current;
    (value > base && value >= base * 1.3 - 1e-9).then(|| Raised {
        kind: AlertKind::PainFunctionWorse,
        cause: "peg".into(),
        summary: format!("PEG {value:.1} is 30% or more above the taper's baseline {base:.1}"),
        suggested_action:
            "Review pain and function: consider slowing the taper and multimodal pain care.".into(),
        evidence: vec![
            evidence("CheckIn", baseline_id, format!("baseline PEG {base:.1}")),
            evidence("CheckIn", current_id, format!("PEG {value:.1}")),
        ],
    })
}

/// The doses logged on a day add up to more than its scheduled dose.
pub fn dose_above_schedule(
    day: NaiveDate,
    taken: f64,
    scheduled: Option<f64>,
    log: Uuid,
) -> Option<Raised> {
    let scheduled = scheduled?;
    (taken > scheduled + 1e-9).then(|| Raised {
        kind: AlertKind::DoseAboveSchedule,
        cause: format!("dose:{day}"),
        summary: format!(
            "Doses logged on {day} add up to {taken}, above the scheduled {scheduled}"
        ),
        suggested_action: "Review: talk with the patient about withdrawal and the taper's pace."
            .into(),
        evidence: vec![evidence(
            "DoseLog",
            log,
            format!("{taken} taken of {scheduled} scheduled"),
        )],
    })
}

/// Daily MME ≥ 50 (regimen or active step) with no naloxone offer recorded.
pub fn naloxone_offer_due(
    patient: Uuid,
    daily_mme: Option<f64>,
    offer_recorded: bool,
) -> Option<Raised> {
    let mme = daily_mme?;
    (mme >= 50.0 - 1e-9 && !offer_recorded).then(|| Raised {
        kind: AlertKind::NaloxoneOfferDue,
        cause: "naloxone".into(),
        summary: format!("{mme:.0} MME/day and no naloxone offer recorded"),
        suggested_action: "Offer naloxone (CDC 2022: at 50 MME/day or more) and record the offer."
            .into(),
        evidence: vec![evidence("Patient", patient, format!("{mme:.2} MME/day"))],
    })
}

/// Craving ≥ 8.
pub fn high_craving(check_in: Uuid, craving: i32) -> Option<Raised> {
    (craving >= 8).then(|| Raised {
        kind: AlertKind::HighCraving,
        cause: "craving".into(),
        summary: format!("Craving {craving}/10 reported"),
        suggested_action: "Reach out today: review coping strategies and the taper's pace.".into(),
        evidence: vec![evidence("CheckIn", check_in, format!("craving {craving}"))],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Uuid {
        Uuid::now_v7()
    }

    #[test]
    fn withdrawal_fires_at_moderate_only_during_an_active_taper() {
        let cases = [
            (Instrument::Cows, 12, true, false),
            (Instrument::Cows, 13, true, true),
            (Instrument::Cows, 30, false, false),
            (Instrument::Sows, 10, true, false),
            (Instrument::Sows, 11, true, true),
            (Instrument::Sows, 40, false, false),
        ];
        for (instrument, total, active, fires) in cases {
            assert_eq!(
                withdrawal(instrument, total, id(), active).is_some(),
                fires,
                "{instrument:?} {total} active={active}"
            );
        }
    }

    #[test]
    fn trends_must_rise_strictly_over_three_reports() {
        let series = |v: &[i32]| v.iter().map(|x| (id(), *x)).collect::<Vec<_>>();
        assert!(worsening_trend("SOWS", &series(&[3, 5, 9]), "WithdrawalAssessment").is_some());
        assert!(worsening_trend("craving", &series(&[3, 5, 5]), "CheckIn").is_none());
        assert!(worsening_trend("craving", &series(&[9, 5, 3]), "CheckIn").is_none());
        assert!(worsening_trend("SOWS", &series(&[3, 5]), "WithdrawalAssessment").is_none());
        let raised = worsening_trend("SOWS", &series(&[1, 2, 3]), "WithdrawalAssessment").unwrap();
        assert_eq!(raised.evidence.len(), 3);
    }

    #[test]
    fn pain_and_function_thirty_percent_above_baseline() {
        let baseline = Some((id(), 5.0));
        assert!(
            pain_function_worse((id(), 6.5), baseline).is_some(),
            "exactly 30%"
        );
        assert!(pain_function_worse((id(), 6.4), baseline).is_none());
        assert!(
            pain_function_worse((id(), 9.0), None).is_none(),
            "no baseline"
        );
    }

    #[test]
    fn dose_above_schedule_and_naloxone_and_craving() {
        let day: NaiveDate = "2026-03-01".parse().unwrap();
        assert!(dose_above_schedule(day, 61.0, Some(60.0), id()).is_some());
        assert!(dose_above_schedule(day, 60.0, Some(60.0), id()).is_none());
        assert!(dose_above_schedule(day, 60.0, None, id()).is_none());
        assert_eq!(
            dose_above_schedule(day, 61.0, Some(60.0), id())
                .unwrap()
                .cause,
            "dose:2026-03-01"
        );

        assert!(naloxone_offer_due(id(), Some(50.0), false).is_some());
        assert!(naloxone_offer_due(id(), Some(49.9), false).is_none());
        assert!(naloxone_offer_due(id(), Some(90.0), true).is_none());
        assert!(naloxone_offer_due(id(), None, false).is_none());

        assert!(high_craving(id(), 8).is_some());
        assert!(high_craving(id(), 7).is_none());
    }

    #[test]
    fn kinds_and_statuses_round_trip_their_stored_forms() {
        use AlertKind::*;
        for kind in [
            WithdrawalModerateOrWorse,
            WorseningTrend,
            PainFunctionWorse,
            DoseAboveSchedule,
            NaloxoneOfferDue,
            HighCraving,
        ] {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.notification_kind(), format!("ALERT_{}", kind.as_str()));
        }
        assert_eq!(HighCraving.notification_kind(), "ALERT_HIGH_CRAVING");
        assert!(!NaloxoneOfferDue.tells_patient() && HighCraving.tells_patient());
        for status in [
            AlertStatus::Open,
            AlertStatus::Acknowledged,
            AlertStatus::Resolved,
        ] {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AlertStatus::Resolved.as_str(), "RESOLVED");
    }
}
