//! The alert rules (CLINICAL.md), as pure functions: each looks at the
//! readings it needs and returns the alert to raise, naming its evidence and
//! suggesting an action. None of them ever changes a dose.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::scales::{self, Instrument, Severity};
use crate::tapering::lifecycle::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    WithdrawalModerateOrWorse,
    WorseningTrend,
    PainFunctionWorse,
    DoseAboveSchedule,
    NaloxoneOfferDue,
    HighCraving,
    FollowUpDue,
    SedativeCoprescription,
}

crate::stored::stored_enum!(impl AlertKind {
    WithdrawalModerateOrWorse => "WITHDRAWAL_MODERATE_OR_WORSE",
    WorseningTrend => "WORSENING_TREND",
    PainFunctionWorse => "PAIN_FUNCTION_WORSE",
    DoseAboveSchedule => "DOSE_ABOVE_SCHEDULE",
    NaloxoneOfferDue => "NALOXONE_OFFER_DUE",
    HighCraving => "HIGH_CRAVING",
    FollowUpDue => "FOLLOW_UP_DUE",
    SedativeCoprescription => "SEDATIVE_COPRESCRIPTION",
});

impl AlertKind {
    /// Whether the patient is told their care team was notified.
    pub fn tells_patient(self) -> bool {
        !matches!(
            self,
            Self::NaloxoneOfferDue | Self::FollowUpDue | Self::SedativeCoprescription
        )
    }

    /// A standing condition (checked daily, not a new reading): not raised
    /// again while an alert for its cause is open or acknowledged, however
    /// old, so the daily check does not repeat it every day.
    pub fn standing(self) -> bool {
        matches!(
            self,
            Self::NaloxoneOfferDue | Self::FollowUpDue | Self::SedativeCoprescription
        )
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
            Self::FollowUpDue => "Follow-up due during the taper",
            Self::SedativeCoprescription => "Sedative prescribed beside an opioid",
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

/// Withdrawal alerts go on this long after a taper completed (CLINICAL.md:
/// tolerance is lost after a taper, FDA 2019).
pub const AFTER_COMPLETION_DAYS: i64 = 90;

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
    /// `CheckIn`, `WithdrawalAssessment`, `DoseLog`, `Patient`, `TaperPlan`.
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
    /// Further causes, besides its own, whose open or acknowledged alert
    /// makes this one a duplicate (for withdrawal: the worse bands).
    pub also_duplicates: Vec<String>,
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

/// A patient's plan as the withdrawal watch sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanWindow {
    /// As of today (an active plan past its last step is COMPLETED).
    pub status: Status,
    pub first_step_starts: Option<NaiveDate>,
    pub last_step_ends: Option<NaiveDate>,
}

/// Whether withdrawal scores raise alerts `today` (CLINICAL.md): a plan
/// ACTIVE or PAUSED and today on or after its start, or one COMPLETED
/// within the last 90 days.
pub fn withdrawal_watched(plans: &[PlanWindow], today: NaiveDate) -> bool {
    plans.iter().any(|p| match p.status {
        Status::Active | Status::Paused => p.first_step_starts.is_some_and(|s| today >= s),
        Status::Completed => p
            .last_step_ends
            .is_some_and(|end| today <= end + Duration::days(AFTER_COMPLETION_DAYS)),
        Status::Draft | Status::Cancelled => false,
    })
}

/// An instrument's severity band for a total.
fn band(instrument: Instrument, total: i32) -> Severity {
    match instrument {
        Instrument::Cows => scales::cows_severity(total),
        Instrument::Sows => scales::sows_severity(total),
    }
}

/// The bands a withdrawal alert can be raised for, mildest first.
const ALERT_BANDS: [Severity; 3] = [
    Severity::Moderate,
    Severity::ModeratelySevere,
    Severity::Severe,
];

fn withdrawal_cause(instrument: Instrument, band: Severity) -> String {
    format!("withdrawal:{}:{}", instrument.as_str(), band.as_str())
}

/// COWS ≥ 13 or SOWS ≥ 11 while the taper is watched (`withdrawal_watched`).
/// Deduplicated per instrument and band: an open or acknowledged alert in
/// the same or a worse band suppresses it, a milder one does not (COWS 14
/// acknowledged, then COWS 38, raises a new alert at once).
pub fn withdrawal(
    instrument: Instrument,
    total: i32,
    assessment: Uuid,
    watched: bool,
) -> Option<Raised> {
    let threshold = match instrument {
        Instrument::Cows => 13,
        Instrument::Sows => 11,
    };
    if !(watched && total >= threshold) {
        return None;
    }
    let severity = band(instrument, total);
    let also_duplicates = ALERT_BANDS
        .iter()
        .filter(|b| **b > severity)
        .map(|b| withdrawal_cause(instrument, *b))
        .collect();
    let label = severity.as_str().to_lowercase().replace('_', " ");
    Some(Raised {
        kind: AlertKind::WithdrawalModerateOrWorse,
        cause: withdrawal_cause(instrument, severity),
        also_duplicates,
        summary: format!(
            "{} withdrawal score {total} ({label}) during or after a taper",
            instrument.as_str()
        ),
        suggested_action: "Review: consider pausing the taper or slowing its pace.".into(),
        evidence: vec![evidence(
            "WithdrawalAssessment",
            assessment,
            format!("{} {total} ({label})", instrument.as_str()),
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
        also_duplicates: Vec::new(),
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
        also_duplicates: Vec::new(),
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
        also_duplicates: Vec::new(),
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

/// What a naloxone offer is due for: a total daily MME ≥ 50, or an order
/// for opioid use disorder whatever the MME.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NaloxoneRisk {
    /// The total daily MME (all opioids), or the higher total the plan's
    /// first step brings when it starts later.
    pub daily_mme: Option<f64>,
    /// The patient has an order with an OUD indication in effect.
    pub oud_order: bool,
}

/// Total daily MME ≥ 50, or an OUD-indication order, with no naloxone offer
/// recorded (CLINICAL.md; CDC 2022).
pub fn naloxone_offer_due(
    patient: Uuid,
    risk: NaloxoneRisk,
    offer_recorded: bool,
) -> Option<Raised> {
    if offer_recorded {
        return None;
    }
    let high_mme = risk.daily_mme.filter(|mme| *mme >= 50.0 - 1e-9);
    let (summary, reading) = match (high_mme, risk.oud_order) {
        (Some(mme), _) => (
            format!("{mme:.0} MME/day and no naloxone offer recorded"),
            format!("{mme:.2} MME/day"),
        ),
        (None, true) => (
            "Treated for opioid use disorder and no naloxone offer recorded".to_owned(),
            "an order for opioid use disorder".to_owned(),
        ),
        (None, false) => return None,
    };
    Some(Raised {
        kind: AlertKind::NaloxoneOfferDue,
        cause: "naloxone".into(),
        also_duplicates: Vec::new(),
        summary,
        suggested_action:
            "Offer naloxone (CDC 2022: at 50 MME/day or more, and with opioid use disorder) and record the offer."
                .into(),
        evidence: vec![evidence("Patient", patient, reading)],
    })
}

/// An ACTIVE plan (today on or after its start) and no completed
/// appointment or clinical note for `every_days`: `last_contact` is the
/// latest of those, or the plan's start when there is none since
/// (CLINICAL.md; CDC: follow up at least monthly during a taper).
pub fn follow_up_due(
    plan: Uuid,
    last_contact: NaiveDate,
    every_days: i32,
    today: NaiveDate,
) -> Option<Raised> {
    let days = (today - last_contact).num_days();
    (days >= i64::from(every_days.max(1))).then(|| Raised {
        kind: AlertKind::FollowUpDue,
        cause: format!("follow-up:{plan}"),
        also_duplicates: Vec::new(),
        summary: format!(
            "No completed appointment or clinical note for {days} days during the taper (follow up every {every_days})"
        ),
        suggested_action: "Book a follow-up visit with the patient.".into(),
        evidence: vec![evidence(
            "TaperPlan",
            plan,
            format!("last contact {last_contact}"),
        )],
    })
}

/// An active sedative order beside an active opioid order or an ACTIVE or
/// PAUSED plan (CDC 2022 recommendation 11). `sedatives` and `opioids` name
/// what is in effect.
pub fn sedative_coprescription(
    patient: Uuid,
    sedatives: &[String],
    opioids: &[String],
) -> Option<Raised> {
    if sedatives.is_empty() || opioids.is_empty() {
        return None;
    }
    let (sedatives, opioids) = (sedatives.join(", "), opioids.join(", "));
    Some(Raised {
        kind: AlertKind::SedativeCoprescription,
        cause: "sedative".into(),
        also_duplicates: Vec::new(),
        summary: format!("{sedatives} prescribed beside {opioids}"),
        suggested_action:
            "Review: avoid benzodiazepines with opioids where possible (CDC 2022); offer naloxone."
                .into(),
        evidence: vec![evidence(
            "Patient",
            patient,
            format!("{sedatives} with {opioids}"),
        )],
    })
}

/// Patches on at one moment adding up to more than the scheduled rate.
pub fn patch_above_schedule(
    day: NaiveDate,
    peak_rate: f64,
    scheduled: Option<f64>,
    log: Uuid,
) -> Option<Raised> {
    let scheduled = scheduled?;
    (peak_rate > scheduled + 1e-9).then(|| Raised {
        kind: AlertKind::DoseAboveSchedule,
        cause: format!("dose:{day}"),
        also_duplicates: Vec::new(),
        summary: format!(
            "Patches on at once on {day} add up to {peak_rate} mcg/hr, above the scheduled {scheduled}"
        ),
        suggested_action: "Review: talk with the patient about withdrawal and the taper's pace."
            .into(),
        evidence: vec![evidence(
            "DoseLog",
            log,
            format!("{peak_rate} mcg/hr on of {scheduled} scheduled"),
        )],
    })
}

/// Craving ≥ 8.
pub fn high_craving(check_in: Uuid, craving: i32) -> Option<Raised> {
    (craving >= 8).then(|| Raised {
        kind: AlertKind::HighCraving,
        cause: "craving".into(),
        also_duplicates: Vec::new(),
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
    fn withdrawal_deduplicates_per_band_so_a_worse_band_is_new() {
        // CLINICAL.md: "a worse band than the open or acknowledged alert
        // raises a new alert at once (COWS 14 acknowledged, then COWS 38 →
        // a new alert)". Bands: 13–24 moderate, 25–36 moderately severe,
        // > 36 severe; SOWS 11–20 moderate, 21–64 severe.
        let moderate = withdrawal(Instrument::Cows, 14, id(), true).unwrap();
        let severe = withdrawal(Instrument::Cows, 38, id(), true).unwrap();
        assert_eq!(moderate.cause, "withdrawal:COWS:MODERATE");
        assert_eq!(severe.cause, "withdrawal:COWS:SEVERE");
        assert!(
            moderate.also_duplicates.contains(&severe.cause),
            "an open severe alert covers a moderate reading"
        );
        assert!(
            !severe.also_duplicates.contains(&moderate.cause),
            "an open moderate alert does not hide a severe reading"
        );
        assert!(severe.also_duplicates.is_empty());
        let cases = [
            (Instrument::Cows, 24, "withdrawal:COWS:MODERATE", 2),
            (Instrument::Cows, 25, "withdrawal:COWS:MODERATELY_SEVERE", 1),
            (Instrument::Cows, 36, "withdrawal:COWS:MODERATELY_SEVERE", 1),
            (Instrument::Cows, 37, "withdrawal:COWS:SEVERE", 0),
            (Instrument::Sows, 11, "withdrawal:SOWS:MODERATE", 2),
            (Instrument::Sows, 21, "withdrawal:SOWS:SEVERE", 0),
        ];
        for (instrument, total, cause, worse) in cases {
            let raised = withdrawal(instrument, total, id(), true).unwrap();
            assert_eq!(raised.cause, cause, "{instrument:?} {total}");
            assert_eq!(
                raised.also_duplicates.len(),
                worse,
                "{instrument:?} {total}"
            );
        }
    }

    #[test]
    fn withdrawal_is_watched_while_active_or_paused_and_90_days_after() {
        // CLINICAL.md: "while a plan is ACTIVE or PAUSED (today ... on or
        // after its start), or within 90 days after it COMPLETED".
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let plan = |status| PlanWindow {
            status,
            first_step_starts: Some(d("2026-03-01")),
            last_step_ends: Some(d("2026-06-30")),
        };
        let cases = [
            (Status::Active, "2026-03-01", true),
            (Status::Active, "2026-02-28", false),
            (Status::Paused, "2026-04-10", true),
            (Status::Paused, "2026-02-01", false),
            (Status::Completed, "2026-07-01", true),
            (Status::Completed, "2026-09-28", true),
            (Status::Completed, "2026-09-29", false),
            (Status::Draft, "2026-04-01", false),
            (Status::Cancelled, "2026-04-01", false),
        ];
        for (status, today, watched) in cases {
            assert_eq!(
                withdrawal_watched(&[plan(status)], d(today)),
                watched,
                "{status:?} {today}"
            );
        }
        assert!(!withdrawal_watched(&[], d("2026-04-01")));
    }

    #[test]
    fn follow_up_and_sedatives() {
        // CLINICAL.md: "An ACTIVE plan and no completed appointment or
        // clinical note for followUpEveryDays → FOLLOW_UP_DUE".
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let plan = id();
        let cases = [
            ("2026-03-01", 28, "2026-03-28", false),
            ("2026-03-01", 28, "2026-03-29", true),
            ("2026-03-01", 14, "2026-03-15", true),
            ("2026-03-10", 28, "2026-03-10", false),
        ];
        for (last, every, today, due) in cases {
            let raised = follow_up_due(plan, d(last), every, d(today));
            assert_eq!(raised.is_some(), due, "{last} every {every} on {today}");
        }
        assert_eq!(
            follow_up_due(plan, d("2026-01-01"), 28, d("2026-03-01"))
                .unwrap()
                .cause,
            format!("follow-up:{plan}")
        );

        // "an active sedative order beside an active opioid order or plan
        // raises SEDATIVE_COPRESCRIPTION to the care team".
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let both = sedative_coprescription(id(), &names(&["alprazolam"]), &names(&["oxycodone"]));
        assert!(both.unwrap().summary.contains("alprazolam"));
        assert!(sedative_coprescription(id(), &names(&["alprazolam"]), &[]).is_none());
        assert!(sedative_coprescription(id(), &[], &names(&["oxycodone"])).is_none());
        assert!(!AlertKind::SedativeCoprescription.tells_patient());
        assert!(AlertKind::FollowUpDue.standing() && !AlertKind::HighCraving.standing());

        let day = d("2026-03-01");
        assert!(patch_above_schedule(day, 50.0, Some(25.0), id()).is_some());
        assert!(patch_above_schedule(day, 25.0, Some(25.0), id()).is_none());
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

        // CLINICAL.md: "Total daily MME ≥ 50 ... and no naloxone offer
        // recorded ... also for any patient with an OUD-indication order,
        // whatever the MME."
        let risk = |daily_mme, oud_order| NaloxoneRisk {
            daily_mme,
            oud_order,
        };
        let cases = [
            (risk(Some(50.0), false), false, true),
            (risk(Some(49.9), false), false, false),
            (risk(Some(90.0), false), true, false),
            (risk(None, false), false, false),
            (risk(None, true), false, true),
            (risk(Some(4.0), true), false, true),
            (risk(Some(4.0), true), true, false),
        ];
        for (risk, offered, due) in cases {
            assert_eq!(
                naloxone_offer_due(id(), risk, offered).is_some(),
                due,
                "{risk:?} offered={offered}"
            );
        }

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
            FollowUpDue,
            SedativeCoprescription,
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
