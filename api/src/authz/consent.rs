//! Consent categories: the parts of a record a patient can disclose.

use std::collections::BTreeSet;

use crate::stored::stored_enum;

/// A category of a patient's record that a consent discloses.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsentCategory {
    /// Taper plans, medication orders, dose logs.
    Taper,
    /// Withdrawal assessments and symptom scores.
    Symptoms,
    /// Daily check-ins.
    CheckIns,
    /// Group memberships and attendance (never group posts).
    GroupActivity,
    Appointments,
    /// The recovery plan.
    CarePlan,
}

stored_enum!(impl ConsentCategory {
    Taper => "TAPER",
    Symptoms => "SYMPTOMS",
    CheckIns => "CHECK_INS",
    GroupActivity => "GROUP_ACTIVITY",
    Appointments => "APPOINTMENTS",
    CarePlan => "CARE_PLAN",
});

impl ConsentCategory {
    /// Stored as comma-separated names. No name contains another, so a
    /// `LIKE '%NAME%'` filter on the column is exact.
    pub fn encode(categories: &BTreeSet<Self>) -> String {
        categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn decode(stored: &str) -> BTreeSet<Self> {
        stored.split(',').filter_map(Self::parse).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_names_are_not_substrings() {
        let all = [
            ConsentCategory::Taper,
            ConsentCategory::Symptoms,
            ConsentCategory::CheckIns,
            ConsentCategory::GroupActivity,
            ConsentCategory::Appointments,
            ConsentCategory::CarePlan,
        ];
        let set: BTreeSet<_> = all.into_iter().collect();
        assert_eq!(ConsentCategory::decode(&ConsentCategory::encode(&set)), set);
        for a in all {
            for b in all {
                if a != b {
                    assert!(!a.as_str().contains(b.as_str()), "{a:?} contains {b:?}");
                }
            }
        }
    }
}
