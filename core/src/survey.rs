//! Satisfaction surveys (SSI after a sale, CSI after service) and their weighted index.
//!
//! Items are scored on a 10-point scale; the index weights them with the J.D. Power factor
//! weights of seed 002 and scales to 0–100.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId};
use crate::source::SourceRef;
use crate::validate;

/// Sales or service satisfaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SurveyKind {
    /// Sales satisfaction index (SSI).
    Sales,
    /// Customer (service) satisfaction index (CSI).
    Service,
}

/// A scored factor of a survey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Factor {
    /// Friendliness of staff (weight 16).
    Friendliness,
    /// Initiative (weight 10).
    Initiative,
    /// Supervision (weight 11).
    Supervision,
    /// Repair process (weight 12).
    RepairProcess,
    /// Product issues (weight 21).
    ProductIssues,
    /// Service quality (weight 15).
    ServiceQuality,
    /// Vehicle pick-up (weight 15).
    VehiclePickUp,
}

impl Factor {
    /// The J.D. Power weight of this factor (the seven weights sum to 100).
    pub fn weight(self) -> u32 {
        match self {
            Factor::Friendliness => 16,
            Factor::Initiative => 10,
            Factor::Supervision => 11,
            Factor::RepairProcess => 12,
            Factor::ProductIssues => 21,
            Factor::ServiceQuality => 15,
            Factor::VehiclePickUp => 15,
        }
    }
}

/// A survey answered by a customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    /// Who answered.
    pub customer: CustomerId,
    /// The dealer rated.
    pub dealer: Option<DealerId>,
    /// SSI or CSI.
    pub kind: SurveyKind,
    /// When it was answered.
    pub date: Date,
    /// Scores (0–10) per factor; each factor at most once.
    pub items: Vec<(Factor, u8)>,
    /// Source system and record id.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Survey, Survey, "survey");

impl Survey {
    /// The weighted index on a 0–100 scale: Σ(weight × score) / Σ(weight of scored factors) × 10.
    /// `None` when no item is scored.
    pub fn weighted_index(&self) -> Option<f64> {
        let weights: u32 = self.items.iter().map(|(f, _)| f.weight()).sum();
        if weights == 0 {
            return None;
        }
        let weighted: u32 = self
            .items
            .iter()
            .map(|(f, s)| f.weight() * u32::from(*s))
            .sum();
        Some(f64::from(weighted) * 10.0 / f64::from(weights))
    }

    /// The survey as it will be stored: validated.
    pub fn normalised(&self) -> Result<Survey, ValidationError> {
        validate::plausible_date("date", self.date)?;
        for (i, (factor, score)) in self.items.iter().enumerate() {
            validate::score("items.score", *score)?;
            if self.items[..i].iter().any(|(f, _)| f == factor) {
                return Err(ValidationError::new(
                    "items.factor",
                    Rule::NotAllowed,
                    format!("{factor:?} scored twice"),
                ));
            }
        }
        Ok(Survey {
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
            ..self.clone()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use crate::error::Result;
use crate::ids::SurveyId;
use crate::store::records::SURVEY_TABLES;
use crate::store::{ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Validates and stores a survey of its customer; idempotent on its source record.
    pub fn insert_survey(&mut self, survey: &Survey) -> Result<SurveyId> {
        let ids = self.insert_owned(&SURVEY_TABLES, std::slice::from_ref(survey), false)?;
        Ok(SurveyId(ids[0]))
    }

    /// Validates and stores many surveys in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_surveys(&mut self, surveys: &[Survey]) -> Result<Vec<SurveyId>> {
        let ids = self.insert_owned(&SURVEY_TABLES, surveys, true)?;
        Ok(ids.into_iter().map(SurveyId).collect())
    }

    /// Replaces a stored survey (its customer cannot change).
    pub fn update_survey(&mut self, id: SurveyId, survey: &Survey) -> Result<()> {
        let r = survey.normalised()?;
        let old: Survey = self.get_owned(&SURVEY_TABLES, id.0)?;
        if old.customer != r.customer {
            return Err(crate::Error::refused(
                crate::Refusal::CustomerChanged,
                format!("survey {id} belongs to customer {}", old.customer),
            ));
        }
        self.update_owned(&SURVEY_TABLES, id.0, &r)
    }
}

impl ReadTxn {
    /// The survey with id `id`.
    pub fn survey(&self, id: SurveyId) -> Result<Survey> {
        self.get_owned(&SURVEY_TABLES, id.0)
    }

    /// Every survey in the database, in id order (for exports).
    pub fn all_surveys(&self) -> Result<Vec<(SurveyId, Survey)>> {
        Ok(self
            .all_owned(&SURVEY_TABLES)?
            .into_iter()
            .map(|(id, r)| (SurveyId(id), r))
            .collect())
    }

    /// Every survey of `customer`, in id order.
    pub fn surveys_of(&self, customer: CustomerId) -> Result<Vec<(SurveyId, Survey)>> {
        Ok(self
            .owned_by(&SURVEY_TABLES, customer)?
            .into_iter()
            .map(|(id, r)| (SurveyId(id), r))
            .collect())
    }
}

impl crate::store::records::Owned for Survey {
    fn checked(&self) -> Result<Survey> {
        Ok(self.normalised()?)
    }
    fn customer(&self) -> CustomerId {
        self.customer
    }
    fn source(&self) -> Option<&SourceRef> {
        self.source.as_ref()
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a survey of its customer; idempotent on its source record.
    pub fn insert_survey(&mut self, survey: &Survey) -> Result<SurveyId> {
        self.tx().insert_survey(survey)
    }

    /// Validates and stores many surveys in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_surveys(&mut self, surveys: &[Survey]) -> Result<Vec<SurveyId>> {
        self.tx().insert_surveys(surveys)
    }

    /// Replaces a stored survey (its customer cannot change).
    pub fn update_survey(&mut self, id: SurveyId, survey: &Survey) -> Result<()> {
        self.tx().update_survey(id, survey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_index_uses_jd_power_weights() {
        let all = [
            Factor::Friendliness,
            Factor::Initiative,
            Factor::Supervision,
            Factor::RepairProcess,
            Factor::ProductIssues,
            Factor::ServiceQuality,
            Factor::VehiclePickUp,
        ];
        assert_eq!(all.iter().map(|f| f.weight()).sum::<u32>(), 100);
        let s = Survey {
            customer: CustomerId(1),
            dealer: None,
            kind: SurveyKind::Service,
            date: Date::from_ymd(2025, 1, 1).unwrap(),
            items: vec![(Factor::ProductIssues, 10), (Factor::Initiative, 4)],
            source: None,
        };
        // (21*10 + 10*4) / 31 * 10 = 80.645...
        assert!((s.weighted_index().unwrap() - 2500.0 / 31.0).abs() < 1e-9);
        assert_eq!(Survey { items: vec![], ..s }.weighted_index(), None);
    }
}
