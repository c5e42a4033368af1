//! Dispensable doses (CLINICAL.md): a daily dose is dispensable when it is a
//! sum of whole units of the medication's listed strengths (fentanyl's "12"
//! patch counts as 12.5; hydrocodone 22.5 mg = 3 × 7.5; morphine 45 mg =
//! 15 + 30). Pure, no database, no async.
//!
//! Doses are placed on an integer grid so that strengths such as 12.5 and
//! 7.5 add up exactly: a dose is counted in thousandths of the unit, and the
//! grid step is the greatest common divisor of the strengths in
//! thousandths. Above the Schur bound `(a₁ − 1)(aₖ − 1)` (strengths in grid
//! steps, smallest a₁ and largest aₖ, their gcd being 1) every grid point is
//! a sum of strengths, so only the points below it need a table: a few dozen
//! for every catalog medication.

/// Thousandths of the medication's unit: the finest dose the grid tells
/// apart (well below any strength in the catalog).
const TICKS: f64 = 1000.0;
/// Floating-point dust when a dose is placed on the grid, in grid steps.
const DUST: f64 = 1e-6;

/// The dispensable doses of one medication, up to a bound.
#[derive(Debug, Clone)]
pub struct Dispensable {
    /// One grid step, in thousandths of the unit.
    grid: u64,
    /// `table[n]`: is `n` grid steps a sum of strengths (`n < dense_from`).
    table: Vec<bool>,
    /// From here on, every grid point is dispensable.
    dense_from: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Dispensable {
    /// The dispensable doses from ascending `strengths` up to `up_to`;
    /// `None` when there is no usable strength (none, or one that is not a
    /// positive amount of at least a thousandth).
    pub fn new(strengths: &[f64], up_to: f64) -> Option<Self> {
        let ticks: Vec<u64> = strengths
            .iter()
            .map(|s| {
                let t = (s * TICKS).round();
                (s.is_finite() && (1.0..=1e12).contains(&t)).then_some(t as u64)
            })
            .collect::<Option<_>>()?;
        let grid = ticks.iter().copied().reduce(gcd)?;
        let steps: Vec<u64> = ticks.iter().map(|t| t / grid).collect();
        let smallest = *steps.iter().min()?;
        let largest = *steps.iter().max()?;
        let schur = (smallest - 1).saturating_mul(largest - 1);
        let needed = (up_to.max(0.0) * TICKS / grid as f64).ceil() as u64 + 1;
        let dense_from = schur.min(needed);
        let mut table = vec![false; dense_from as usize];
        if let Some(zero) = table.first_mut() {
            *zero = true;
        }
        for n in 1..table.len() {
            table[n] = steps
                .iter()
                .any(|&a| a as usize <= n && table[n - a as usize]);
        }
        Some(Self {
            grid,
            table,
            dense_from,
        })
    }

    fn reachable(&self, n: u64) -> bool {
        n >= self.dense_from || self.table[n as usize]
    }

    /// The dose `n` grid steps make.
    pub fn dose(&self, n: u64) -> f64 {
        (n * self.grid) as f64 / TICKS
    }

    fn position(&self, dose: f64) -> f64 {
        dose * TICKS / self.grid as f64
    }

    /// The first grid point at or above `dose` (0 for doses at or below 0).
    pub fn index_at_least(&self, dose: f64) -> u64 {
        (self.position(dose) - DUST).ceil().max(0.0) as u64
    }

    /// The last grid point at or below `dose`, if any (none below 0).
    pub fn index_at_most(&self, dose: f64) -> Option<u64> {
        let n = (self.position(dose) + DUST).floor();
        (n >= 0.0).then_some(n as u64)
    }

    /// The last grid point strictly below `dose`, if any.
    pub fn index_below(&self, dose: f64) -> Option<u64> {
        let n = (self.position(dose) - DUST).ceil() - 1.0;
        (n >= 0.0).then_some(n as u64)
    }

    /// Whether `dose` is dispensable (0 is: no units at all).
    pub fn contains(&self, dose: f64) -> bool {
        let n = self.position(dose).round();
        n >= 0.0 && (self.position(dose) - n).abs() < DUST && self.reachable(n as u64)
    }

    /// The smallest dispensable grid point in `low..=high`.
    pub fn first_in(&self, low: u64, high: u64) -> Option<u64> {
        (low..=high).find(|&n| self.reachable(n))
    }

    /// The largest dispensable grid point at or below `high` (0 always is).
    pub fn last_at_most(&self, high: u64) -> u64 {
        (0..=high).rev().find(|&n| self.reachable(n)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doses_up_to(strengths: &[f64], up_to: f64) -> Vec<f64> {
        let d = Dispensable::new(strengths, up_to).unwrap();
        (0..=d.index_at_most(up_to).unwrap())
            .filter(|&n| d.reachable(n))
            .map(|n| d.dose(n))
            .collect()
    }

    /// CLINICAL.md: "fentanyl's "12" patch delivers 12.5 mcg/hr and counts
    /// as 12.5; hydrocodone 22.5 mg = 3 × 7.5; tapentadol 225 mg = 3 × 75;
    /// morphine 45 mg = 15 + 30".
    #[test]
    fn clinical_examples_are_dispensable() {
        let fentanyl = [12.5, 25.0, 50.0, 75.0, 100.0];
        let d = Dispensable::new(&fentanyl, 400.0).unwrap();
        assert!(d.contains(12.5) && d.contains(25.0) && d.contains(37.5));
        assert!(!d.contains(12.0) && !d.contains(30.0));
        let hydrocodone = Dispensable::new(&[5.0, 7.5, 10.0], 2000.0).unwrap();
        assert!(hydrocodone.contains(22.5) && hydrocodone.contains(12.5));
        assert!(!hydrocodone.contains(2.5) && !hydrocodone.contains(7.0));
        let tapentadol = Dispensable::new(&[50.0, 75.0, 100.0], 2000.0).unwrap();
        assert!(tapentadol.contains(225.0) && tapentadol.contains(125.0));
        assert!(!tapentadol.contains(25.0) && !tapentadol.contains(60.0));
        let morphine = Dispensable::new(&[15.0, 30.0, 60.0, 100.0], 2000.0).unwrap();
        assert!(morphine.contains(45.0) && morphine.contains(115.0));
        assert!(!morphine.contains(50.0) && !morphine.contains(20.0));
        assert!(morphine.contains(0.0), "no units at all");
    }

    #[test]
    fn the_table_matches_brute_force_sums() {
        // Every sum of whole units of 15, 30, 60, 100 up to 200.
        let mut sums = std::collections::BTreeSet::new();
        for a in 0..=13u32 {
            for b in 0..=6 {
                for c in 0..=3 {
                    for d in 0..=2 {
                        let total = 15 * a + 30 * b + 60 * c + 100 * d;
                        if total <= 200 {
                            sums.insert(total);
                        }
                    }
                }
            }
        }
        let expected: Vec<f64> = sums.into_iter().map(f64::from).collect();
        assert_eq!(doses_up_to(&[15.0, 30.0, 60.0, 100.0], 200.0), expected);
    }

    #[test]
    fn searches_stay_on_dispensable_doses() {
        let d = Dispensable::new(&[15.0, 30.0, 60.0, 100.0], 300.0).unwrap();
        // Between 48 and 59: nothing; the next is 60.
        let low = d.index_at_least(48.0);
        assert_eq!(d.first_in(low, d.index_below(60.0).unwrap()), None);
        assert_eq!(
            d.first_in(low, d.index_below(61.0).unwrap())
                .map(|n| d.dose(n)),
            Some(60.0)
        );
        assert_eq!(d.dose(d.last_at_most(d.index_below(45.0).unwrap())), 30.0);
        assert_eq!(d.index_below(0.0), None);
        assert_eq!(d.index_at_most(-1.0), None);
        assert!(Dispensable::new(&[], 10.0).is_none());
        assert!(Dispensable::new(&[0.0], 10.0).is_none());
    }
}
