//! Withdrawal scales and the PEG score: pure scoring, no database.
//!
//! - COWS (Wesson & Ling 2003; NCBI Bookshelf NBK64244): 11 clinician-rated
//!   items, each only its listed values; total 0–48; < 5 none, 5–12 mild,
//!   13–24 moderate, 25–36 moderately severe, > 36 severe.
//! - SOWS (Handelsman et al. 1987): 16 patient-rated items 0–4; total 0–64.
//!   Bands in common clinical use (not in the original paper): 0 none,
//!   1–10 mild, 11–20 moderate, 21–64 severe.
//! - PEG (Krebs et al. 2009): three items 0–10; score = their mean.

use crate::error::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Instrument {
    Cows,
    Sows,
}

crate::stored::stored_enum!(impl Instrument { Cows => "COWS", Sows => "SOWS" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    None,
    Mild,
    Moderate,
    ModeratelySevere,
    Severe,
}

crate::stored::stored_enum!(impl Severity {
    None => "NONE",
    Mild => "MILD",
    Moderate => "MODERATE",
    ModeratelySevere => "MODERATELY_SEVERE",
    Severe => "SEVERE",
});

/// COWS items in the published order, each with the values it may take.
pub const COWS_ITEMS: [(&str, &[i32]); 11] = [
    ("resting pulse rate", &[0, 1, 2, 4]),
    ("sweating", &[0, 1, 2, 3, 4]),
    ("restlessness", &[0, 1, 3, 5]),
    ("pupil size", &[0, 1, 2, 5]),
    ("bone or joint aches", &[0, 1, 2, 4]),
    ("runny nose or tearing", &[0, 1, 2, 4]),
    ("GI upset", &[0, 1, 2, 3, 5]),
    ("tremor", &[0, 1, 2, 4]),
    ("yawning", &[0, 1, 2, 4]),
    ("anxiety or irritability", &[0, 1, 2, 4]),
    ("gooseflesh skin", &[0, 3, 5]),
];

/// SOWS items in the published order (each 0–4).
pub const SOWS_ITEMS: [&str; 16] = [
    "anxious",
    "yawning",
    "perspiring",
    "eyes tearing",
    "nose running",
    "goosebumps",
    "shaking",
    "hot flushes",
    "cold flushes",
    "bones and muscles ache",
    "restless",
    "nauseous",
    "feel like vomiting",
    "muscles twitch",
    "stomach cramps",
    "feel like using now",
];

/// A scored assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub total: i32,
    pub severity: Severity,
}

/// The input field the items come from (`BAD_USER_INPUT` names it).
pub const ITEMS_FIELD: &str = "items";

/// Scores `items`; a refusal names the item at fault in its message.
pub fn score(instrument: Instrument, items: &[i32]) -> Result<Score, InputError> {
    match instrument {
        Instrument::Cows => {
            if items.len() != COWS_ITEMS.len() {
                return Err(InputError::new(
                    ITEMS_FIELD,
                    format!("COWS has 11 items; got {}", items.len()),
                ));
            }
            for (i, (value, (name, allowed))) in items.iter().zip(COWS_ITEMS).enumerate() {
                if !allowed.contains(value) {
                    return Err(InputError::new(
                        ITEMS_FIELD,
                        format!(
                            "COWS item {} ({name}) takes {allowed:?}; got {value}",
                            i + 1
                        ),
                    ));
                }
            }
            let total = items.iter().sum();
            Ok(Score {
                total,
                severity: cows_severity(total),
            })
        }
        Instrument::Sows => {
            if items.len() != SOWS_ITEMS.len() {
                return Err(InputError::new(
                    ITEMS_FIELD,
                    format!("SOWS has 16 items; got {}", items.len()),
                ));
            }
            for (i, (value, name)) in items.iter().zip(SOWS_ITEMS).enumerate() {
                if !(0..=4).contains(value) {
                    return Err(InputError::new(
                        ITEMS_FIELD,
                        format!("SOWS item {} ({name}) takes 0 to 4; got {value}", i + 1),
                    ));
                }
            }
            let total = items.iter().sum();
            Ok(Score {
                total,
                severity: sows_severity(total),
            })
        }
    }
}

pub fn cows_severity(total: i32) -> Severity {
    match total {
        ..=4 => Severity::None,
        5..=12 => Severity::Mild,
        13..=24 => Severity::Moderate,
        25..=36 => Severity::ModeratelySevere,
        _ => Severity::Severe,
    }
}

/// Bands in common clinical use (not in Handelsman et al. 1987).
pub fn sows_severity(total: i32) -> Severity {
    match total {
        ..=0 => Severity::None,
        1..=10 => Severity::Mild,
        11..=20 => Severity::Moderate,
        _ => Severity::Severe,
    }
}

/// The PEG score: the mean of its three items, when all three are given.
pub fn peg(pain: Option<i32>, enjoyment: Option<i32>, activity: Option<i32>) -> Option<f64> {
    match (pain, enjoyment, activity) {
        (Some(a), Some(b), Some(c)) => Some(f64::from(a + b + c) / 3.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every COWS band boundary (CLINICAL.md).
    #[test]
    fn cows_bands() {
        let cases = [
            (0, Severity::None),
            (4, Severity::None),
            (5, Severity::Mild),
            (12, Severity::Mild),
            (13, Severity::Moderate),
            (24, Severity::Moderate),
            (25, Severity::ModeratelySevere),
            (36, Severity::ModeratelySevere),
            (37, Severity::Severe),
            (48, Severity::Severe),
        ];
        for (total, severity) in cases {
            assert_eq!(cows_severity(total), severity, "COWS {total}");
        }
    }

    /// Every SOWS band boundary (bands in common clinical use).
    #[test]
    fn sows_bands() {
        let cases = [
            (0, Severity::None),
            (1, Severity::Mild),
            (10, Severity::Mild),
            (11, Severity::Moderate),
            (20, Severity::Moderate),
            (21, Severity::Severe),
            (64, Severity::Severe),
        ];
        for (total, severity) in cases {
            assert_eq!(sows_severity(total), severity, "SOWS {total}");
        }
    }

    #[test]
    fn scoring_sums_items() {
        let maximal: Vec<i32> = COWS_ITEMS.iter().map(|(_, v)| *v.last().unwrap()).collect();
        assert_eq!(
            score(Instrument::Cows, &maximal).unwrap(),
            Score {
                total: 48,
                severity: Severity::Severe
            }
        );
        let moderate = [2, 1, 1, 1, 2, 1, 2, 1, 1, 1, 0];
        assert_eq!(score(Instrument::Cows, &moderate).unwrap().total, 13);
        assert_eq!(
            score(Instrument::Cows, &moderate).unwrap().severity,
            Severity::Moderate
        );
        assert_eq!(score(Instrument::Sows, &[4; 16]).unwrap().total, 64);
        assert_eq!(
            score(Instrument::Sows, &[0; 16]).unwrap().severity,
            Severity::None
        );
    }

    /// Each COWS item refuses a value it does not list, naming the item.
    #[test]
    fn invalid_item_values_per_item() {
        let invalid = [3, 5, 2, 3, 3, 3, 4, 3, 3, 3, 1];
        for (i, bad) in invalid.into_iter().enumerate() {
            let mut items = [0; 11];
            items[i] = bad;
            let err = score(Instrument::Cows, &items).unwrap_err();
            assert_eq!(err.field, "items");
            assert!(
                err.message.contains(&format!("item {}", i + 1)),
                "{}",
                err.message
            );
        }
        for i in 0..16 {
            let mut items = [0; 16];
            items[i] = 5;
            assert!(score(Instrument::Sows, &items).is_err());
            items[i] = -1;
            assert!(score(Instrument::Sows, &items).is_err());
        }
        assert!(score(Instrument::Cows, &[0; 10]).is_err());
        assert!(score(Instrument::Sows, &[0; 17]).is_err());
    }

    #[test]
    fn peg_is_the_mean_of_three() {
        assert_eq!(peg(Some(6), Some(5), Some(7)), Some(6.0));
        assert_eq!(peg(Some(6), None, Some(7)), None);
    }
}
