//! Dose adherence (CLINICAL.md): for a day, the logged amount ÷ the
//! scheduled daily dose, capped at 1; the excess is what the
//! over-schedule alert sees.

/// One day's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayAdherence {
    /// Taken ÷ scheduled, capped at 1; `None` when nothing was scheduled.
    pub adherence: Option<f64>,
    /// More was taken than scheduled.
    pub over_schedule: bool,
}

/// Amounts closer than this are equal (floating-point dust).
pub const EPSILON: f64 = 1e-9;

pub fn day(scheduled: Option<f64>, taken: f64) -> DayAdherence {
    match scheduled {
        None => DayAdherence {
            adherence: None,
            over_schedule: false,
        },
        Some(s) if s <= EPSILON => DayAdherence {
            adherence: Some(if taken <= EPSILON { 1.0 } else { 0.0 }),
            over_schedule: taken > EPSILON,
        },
        Some(s) => DayAdherence {
            adherence: Some((taken / s).min(1.0)),
            over_schedule: taken > s + EPSILON,
        },
    }
}

/// Mean adherence over the days that had a schedule.
pub fn mean(days: &[DayAdherence]) -> Option<f64> {
    let values: Vec<f64> = days.iter().filter_map(|d| d.adherence).collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adherence_table() {
        let cases = [
            (Some(60.0), 60.0, Some(1.0), false),
            (Some(60.0), 30.0, Some(0.5), false),
            (Some(60.0), 75.0, Some(1.0), true),
            (Some(0.0), 0.0, Some(1.0), false),
            (Some(0.0), 5.0, Some(0.0), true),
            (None, 10.0, None, false),
        ];
        for (scheduled, taken, adherence, over) in cases {
            let got = day(scheduled, taken);
            assert_eq!(got.adherence, adherence, "{scheduled:?} {taken}");
            assert_eq!(got.over_schedule, over, "{scheduled:?} {taken}");
        }
        assert_eq!(
            mean(&[day(Some(10.0), 10.0), day(Some(10.0), 5.0), day(None, 0.0)]),
            Some(0.75)
        );
    }
}
