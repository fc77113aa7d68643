//! The indicator catalogue: the 12 quantified checks of the RCEP B2B website scheme, as
//! data (`schemas/indicators/rcep-b2b-web-1.json`), and the scoring rules.
//!
//! Normalised score per indicator (integer 0-100): exactly 60 at the threshold, 100 at
//! the best value, linear between (rounded half up); failing values fall linearly from
//! 59 towards 0 at the worst end of the accepted range (floored, so a fail never rounds
//! up to a pass). The overall score is the weighted mean of the integer scores, rounded
//! half up, so anyone can recompute it from a badge's `audit.ind` alone.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The catalogue shipped with this crate.
pub const RCEP_B2B_WEB_1_JSON: &str = include_str!("../../schemas/indicators/rcep-b2b-web-1.json");

/// Which way an indicator improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values are better; passing means `value >= threshold`.
    HigherIsBetter,
    /// Smaller values are better; passing means `value <= threshold`.
    LowerIsBetter,
}

/// One indicator of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable identifier.
    pub id: String,
    /// Short English name.
    pub name: String,
    /// What is measured and how.
    pub description: String,
    /// Unit of `value`.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// The pass mark.
    pub threshold: f64,
    /// The best achievable value.
    pub best: f64,
    /// Lowest accepted value.
    pub min: f64,
    /// Highest accepted value.
    pub max: f64,
    /// Weight in the overall score.
    pub weight: u32,
    /// Whether failing it refuses the badge.
    pub required: bool,
}

/// A scheme's catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    /// Scheme id, e.g. `rcep-b2b-web/1`.
    pub scheme: String,
    /// Catalogue version.
    pub version: u32,
    /// Indicators in catalogue order (the order of a badge's `audit.ind`).
    pub indicators: Vec<Indicator>,
}

/// Why a catalogue document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// Not JSON of the catalogue's shape.
    #[error("the catalogue is not valid JSON of the expected shape")]
    Json,
    /// An indicator's numbers are inconsistent (range, threshold, best, weight, ids).
    #[error("an indicator's range, threshold, best value, weight or id is inconsistent")]
    Inconsistent,
}

/// The outcome for one indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorResult {
    /// Indicator id.
    pub id: String,
    /// The measured value.
    pub value: f64,
    /// Normalised score 0-100.
    pub score: u8,
    /// Whether the value meets the threshold.
    pub pass: bool,
}

/// Scores for a complete, in-range set of values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Per indicator, in catalogue order.
    pub results: Vec<IndicatorResult>,
    /// Overall weighted score 0-100.
    pub score: u8,
}

impl Evaluation {
    /// The normalised scores in catalogue order (a badge's `audit.ind`).
    pub fn normalized(&self) -> Vec<u8> {
        self.results.iter().map(|r| r.score).collect()
    }
}

/// What is wrong with a set of indicator values; every list names indicator ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndicatorProblems {
    /// Catalogue ids with no value.
    pub missing: Vec<String>,
    /// Ids not in the catalogue.
    pub unknown: Vec<String>,
    /// Values outside `[min, max]` or not finite.
    pub out_of_range: Vec<String>,
    /// Required indicators whose value misses the threshold.
    pub failing: Vec<String>,
}

impl IndicatorProblems {
    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.unknown.is_empty()
            && self.out_of_range.is_empty()
            && self.failing.is_empty()
    }
}

fn round_half_up(x: f64) -> f64 {
    (x + 0.5).floor()
}

impl Indicator {
    /// Whether `v` meets the threshold (the pass/fail of the verification page, of
    /// `audit sign`'s warnings and of `trustmark scan`).
    pub fn passes(&self, v: f64) -> bool {
        match self.direction {
            Direction::HigherIsBetter => v >= self.threshold,
            Direction::LowerIsBetter => v <= self.threshold,
        }
    }

    /// The normalised score of `value` (assumed inside `[min, max]`).
    pub fn normalize(&self, v: f64) -> u8 {
        let score = if self.passes(v) {
            if self.best == self.threshold {
                100.0
            } else {
                round_half_up(60.0 + 40.0 * (v - self.threshold) / (self.best - self.threshold))
                    .clamp(60.0, 100.0)
            }
        } else {
            let worst = match self.direction {
                Direction::HigherIsBetter => self.min,
                Direction::LowerIsBetter => self.max,
            };
            if self.threshold == worst {
                0.0
            } else {
                (60.0 * (v - worst) / (self.threshold - worst))
                    .floor()
                    .clamp(0.0, 59.0)
            }
        };
        // Clamped to 0..=100 above, so the cast is exact.
        score as u8
    }

    fn consistent(&self) -> bool {
        let ordered = match self.direction {
            Direction::HigherIsBetter => {
                self.min <= self.threshold && self.threshold <= self.best && self.best <= self.max
            }
            Direction::LowerIsBetter => {
                self.min <= self.best && self.best <= self.threshold && self.threshold <= self.max
            }
        };
        let finite = [self.min, self.max, self.threshold, self.best]
            .iter()
            .all(|v| v.is_finite());
        finite && ordered && self.min < self.max && self.weight > 0 && !self.id.is_empty()
    }
}

impl Catalogue {
    /// Parses and checks a catalogue document.
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        if !crate::json::has_no_duplicate_members(text.as_bytes()) {
            return Err(CatalogueError::Json);
        }
        let cat: Catalogue = serde_json::from_str(text).map_err(|_| CatalogueError::Json)?;
        let ids_unique = cat
            .indicators
            .iter()
            .enumerate()
            .all(|(i, a)| cat.indicators.iter().skip(i + 1).all(|b| b.id != a.id));
        if cat.indicators.is_empty()
            || !ids_unique
            || !cat.indicators.iter().all(Indicator::consistent)
        {
            return Err(CatalogueError::Inconsistent);
        }
        Ok(cat)
    }

    /// The built-in `rcep-b2b-web/1` catalogue.
    pub fn rcep_b2b_web_1() -> Result<Self, CatalogueError> {
        Self::from_json(RCEP_B2B_WEB_1_JSON)
    }

    /// The overall score from integer normalised scores in catalogue order; `None` if
    /// the count differs from the catalogue.
    pub fn overall(&self, normalized: &[u8]) -> Option<u8> {
        if normalized.len() != self.indicators.len() {
            return None;
        }
        let (sum, weights) =
            self.indicators
                .iter()
                .zip(normalized)
                .fold((0u64, 0u64), |(s, w), (ind, n)| {
                    (
                        s + u64::from(ind.weight) * u64::from(*n),
                        w + u64::from(ind.weight),
                    )
                });
        // Integer half-up rounding of sum / weights.
        u8::try_from((2 * sum + weights) / (2 * weights)).ok()
    }

    /// The range the overall score can still take when only some values are known: each
    /// indicator in `values` scores as measured, every other one anywhere from 0 to 100
    /// (the lowest and the highest normalised score). `None` if a value is unknown to the
    /// catalogue, not finite or outside its indicator's range.
    pub fn projected(&self, values: &BTreeMap<String, f64>) -> Option<(u8, u8)> {
        if values
            .keys()
            .any(|k| !self.indicators.iter().any(|i| &i.id == k))
        {
            return None;
        }
        let mut low = Vec::with_capacity(self.indicators.len());
        let mut high = Vec::with_capacity(self.indicators.len());
        for ind in &self.indicators {
            match values.get(&ind.id) {
                Some(&v) if v.is_finite() && v >= ind.min && v <= ind.max => {
                    low.push(ind.normalize(v));
                    high.push(ind.normalize(v));
                }
                Some(_) => return None,
                None => {
                    low.push(0);
                    high.push(100);
                }
            }
        }
        Some((self.overall(&low)?, self.overall(&high)?))
    }

    /// Whether integer scores are consistent with a pass of every required indicator.
    pub fn required_pass(&self, normalized: &[u8]) -> bool {
        normalized.len() == self.indicators.len()
            && self
                .indicators
                .iter()
                .zip(normalized)
                .all(|(ind, n)| !ind.required || *n >= 60)
    }

    /// Scores a complete set of values, or lists every problem found.
    pub fn evaluate(
        &self,
        values: &BTreeMap<String, f64>,
    ) -> Result<Evaluation, IndicatorProblems> {
        let mut problems = IndicatorProblems {
            unknown: values
                .keys()
                .filter(|k| !self.indicators.iter().any(|i| &i.id == *k))
                .cloned()
                .collect(),
            ..IndicatorProblems::default()
        };
        let mut results = Vec::with_capacity(self.indicators.len());
        for ind in &self.indicators {
            let Some(&v) = values.get(&ind.id) else {
                problems.missing.push(ind.id.clone());
                continue;
            };
            if !v.is_finite() || v < ind.min || v > ind.max {
                problems.out_of_range.push(ind.id.clone());
                continue;
            }
            let pass = ind.passes(v);
            if !pass && ind.required {
                problems.failing.push(ind.id.clone());
            }
            results.push(IndicatorResult {
                id: ind.id.clone(),
                value: v,
                score: ind.normalize(v),
                pass,
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let normalized: Vec<u8> = results.iter().map(|r| r.score).collect();
        let score = self.overall(&normalized).ok_or(problems)?;
        Ok(Evaluation { results, score })
    }
}

#[cfg(test)]
mod tests {
    // Scoring formula at its fixed points and the catalogue's own consistency.
    use super::*;

    fn cat() -> Catalogue {
        Catalogue::rcep_b2b_web_1().unwrap()
    }

    fn ind(id: &str) -> Indicator {
        cat().indicators.into_iter().find(|i| i.id == id).unwrap()
    }

    #[test]
    fn shipped_catalogue_has_the_twelve_indicators_in_order() {
        let ids: Vec<String> = cat().indicators.into_iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), 12);
        assert_eq!(ids[0], "multilingual_parameter_deviation");
        assert_eq!(ids[11], "data_protection_notice");
    }

    #[test]
    fn normalization_fixed_points() {
        let dev = ind("multilingual_parameter_deviation"); // <= 2.0, best 0, max 100
        assert_eq!(dev.normalize(2.0), 60);
        assert_eq!(dev.normalize(0.0), 100);
        assert_eq!(dev.normalize(1.0), 80);
        assert_eq!(dev.normalize(2.01), 59);
        assert_eq!(dev.normalize(100.0), 0);
        let tls = ind("tls_configuration"); // = 1
        assert_eq!((tls.normalize(1.0), tls.normalize(0.0)), (100, 0));
        let avail = ind("site_availability"); // >= 99.5, best 100
        assert_eq!(avail.normalize(99.75), 80);
        assert_eq!(avail.normalize(99.49), 59);
    }

    #[test]
    fn evaluate_lists_every_problem() {
        let c = cat();
        let mut values: BTreeMap<String, f64> = c
            .indicators
            .iter()
            .map(|i| (i.id.clone(), i.best))
            .collect();
        let all_best = c.evaluate(&values).unwrap();
        assert_eq!(all_best.score, 100);
        values.insert("tls_configuration".into(), 0.0);
        values.insert("site_availability".into(), 101.0);
        values.remove("contact_reachability");
        values.insert("bogus".into(), 1.0);
        let p = c.evaluate(&values).unwrap_err();
        assert_eq!(p.failing, vec!["tls_configuration"]);
        assert_eq!(p.out_of_range, vec!["site_availability"]);
        assert_eq!(p.missing, vec!["contact_reachability"]);
        assert_eq!(p.unknown, vec!["bogus"]);
    }

    #[test]
    fn overall_is_weighted_and_rounded_half_up() {
        let c = cat();
        let mut n = vec![100u8; 12];
        assert_eq!(c.overall(&n), Some(100));
        n[0] = 60; // weight 12 of 100: 100 - 0.12 * 40 = 95.2
        assert_eq!(c.overall(&n), Some(95));
        assert_eq!(c.overall(&n[..11]), None);
    }

    #[test]
    fn projected_range_spans_what_is_not_measured() {
        let c = cat();
        let all: BTreeMap<String, f64> = c
            .indicators
            .iter()
            .map(|i| (i.id.clone(), i.best))
            .collect();
        // Everything known: one point, the evaluated score.
        assert_eq!(c.projected(&all), Some((100, 100)));
        // Nothing known: the whole scale.
        assert_eq!(c.projected(&BTreeMap::new()), Some((0, 100)));
        // Eight measured at their best, the four a scan cannot measure (weights 12, 10,
        // 6, 6 of 100) open: 66 to 100.
        let mut some = all.clone();
        for id in [
            "product_parameter_authenticity",
            "business_identity_match",
            "contact_reachability",
            "site_availability",
        ] {
            some.remove(id);
        }
        assert_eq!(c.projected(&some), Some((66, 100)));
        // A measured fail pulls both ends down: tls 0 costs its weight (8).
        some.insert("tls_configuration".into(), 0.0);
        assert_eq!(c.projected(&some), Some((58, 92)));
        some.insert("tls_configuration".into(), 2.0);
        assert_eq!(c.projected(&some), None, "out of range");
        some.remove("tls_configuration");
        some.insert("bogus".into(), 1.0);
        assert_eq!(c.projected(&some), None, "unknown id");
    }
}
