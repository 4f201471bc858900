#![allow(missing_docs, unused)]
use crate::date::Date;
use crate::error::{Rule, ValidationError};
pub fn person_name(f: &'static str, s: &str) -> Result<String, ValidationError> { Ok(s.trim().into()) }
pub fn org_name(f: &'static str, s: &str) -> Result<String, ValidationError> { Ok(s.trim().into()) }
pub fn mobile_phone(f: &'static str, s: &str) -> Result<String, ValidationError> { let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect(); let d = d.strip_prefix("86").map(String::from).unwrap_or(d); if d.len()==11 {Ok(d)} else {Err(ValidationError::new(f, Rule::PhoneTooShort, s))} }
pub fn national_id(f: &'static str, s: &str) -> Result<String, ValidationError> { if s.len()==18 {Ok(s.into())} else {Err(ValidationError::new(f, Rule::NationalIdFormat, s))} }
pub fn credit_code(f: &'static str, s: &str) -> Result<String, ValidationError> { if s.len()==18 && s.starts_with('9') {Ok(s.into())} else {Err(ValidationError::new(f, Rule::CreditCodeFormat, s))} }
pub fn vin(f: &'static str, s: &str) -> Result<String, ValidationError> { if s.len()==17 {Ok(s.into())} else {Err(ValidationError::new(f, Rule::VinFormat, s))} }
pub fn plate(f: &'static str, s: &str) -> Result<String, ValidationError> { Ok(s.into()) }
pub fn plausible_date(f: &'static str, d: Date) -> Result<Date, ValidationError> { Ok(d) }
pub fn date_order(f: &'static str, a: Option<Date>, b: Option<Date>) -> Result<(), ValidationError> { Ok(()) }
pub fn non_negative(f: &'static str, v: i64) -> Result<i64, ValidationError> { Ok(v) }
pub fn score(f: &'static str, v: u8) -> Result<u8, ValidationError> { Ok(v) }
pub fn optional_text(f: &'static str, s: &str, m: usize) -> Result<Option<String>, ValidationError> { let t=s.trim(); Ok(if t.is_empty(){None}else{Some(t.into())}) }
