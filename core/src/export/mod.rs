//! Tables as Arrow record batches (cargo feature `arrow`): dealers, customers, vehicles,
//! ownership periods, touchpoints, ledger postings and lots, leads, complaints, surveys, home
//! dealers, and builders for results already in memory (segment members, KPI rows, the
//! data-quality report, duplicate candidates). Every binding that hands tables to dataframe libraries (Python through the Arrow
//! PyCapsule interface, Node, mobile) builds them here, so the columns — names, types, order —
//! are the same everywhere. Each table has a schema function (e.g. [`customers_schema`]) that
//! gives its columns without reading anything. Module `lake` (cargo feature `parquet`) writes
//! every table as Parquet files in a hive-partitioned folder (docs/export.md).
//!
//! The scans read one snapshot ([`ReadTxn`](crate::ReadTxn)) and append each record to column
//! builders as it is decoded: no per-row objects outside Rust. Conventions of every table: ids
//! are `uint64` (dealer ids `uint32`), dates `date32`, times `timestamp[s]` (naive local time, as
//! stored), money `decimal128(18, 2)` in yuan, enumerations their snake_case
//! [`Named`](crate::Named) names, and a missing value is null.
//!
//! Errors: the scans return the storage errors of the reads they make. Building a batch from
//! columns can only fail if a column does not match its schema — a bug in this module, never a
//! property of the data or the file — so an Arrow error becomes [`Error::Internal`] (code
//! `internal`): not `Corrupt` (the file is fine) and not `Storage` (the engine did not fail).
//!
//! ```
//! # fn main() -> autocrm::Result<()> {
//! use autocrm::{export, Customer, Database};
//! let db = Database::in_memory()?;
//! let mut tx = db.begin_write()?;
//! tx.insert_customer(&Customer::person("王小明"))?;
//! tx.commit()?;
//! let r = db.begin_read()?;
//! let batches = export::customers(&r, None)?;
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
//! assert_eq!(batches[0].schema(), export::customers_schema());
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use arrow_array::builder::Decimal128Builder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::money::Money;

mod activity;
mod customers;
#[cfg(feature = "parquet")]
pub mod lake;
mod results;
mod vehicles;

pub use activity::{
    complaints, complaints_schema, leads, leads_schema, lots, lots_schema, postings,
    postings_schema, surveys, surveys_schema, touchpoints, touchpoints_schema,
};
pub use customers::{customers, customers_schema};
pub use results::{
    candidates, candidates_schema, dealers, dealers_schema, home_dealers, home_dealers_of,
    home_dealers_schema, kpi_rows, kpi_rows_schema, members, members_schema, quality_rows,
    quality_rows_schema,
};
pub use vehicles::{ownership, ownership_schema, vehicles, vehicles_schema};

// The scans with a row filter (and, where a scope's sight masks a field, a record transform):
// what the scoped exports of `crate::api::ScopedStore` build their tables with.
pub(crate) use activity::{
    complaints_with, leads_with, lots_with, postings_with, surveys_with, touchpoints_with,
};
pub(crate) use customers::customers_with;
pub(crate) use vehicles::{ownership_with, vehicles_with, VehicleRow};

/// The `arrow-array` crate this module builds with (re-exported so a binding uses the same
/// version).
pub use arrow_array;
/// The `arrow-schema` crate this module builds with.
pub use arrow_schema;

/// An Arrow error, which here can only be a bug: see the module documentation.
fn internal(e: ArrowError) -> Error {
    Error::Internal {
        what: format!("building an Arrow table: {e}"),
    }
}

/// The batch of `schema` from `cols`.
fn batch(schema: SchemaRef, cols: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(schema, cols).map_err(internal)
}

/// Appends a money amount in fen as `decimal128(18, 2)`.
fn money(b: &mut Decimal128Builder, m: Option<Money>) {
    b.append_option(m.map(|m| i128::from(m.fen())));
}

/// A builder of `decimal128(18, 2)` values.
fn decimal_builder() -> Decimal128Builder {
    Decimal128Builder::new()
        .with_precision_and_scale(18, 2)
        .expect("18, 2 is a valid decimal128 precision and scale")
}

/// A nullable `decimal128(18, 2)` column.
fn decimal_field(name: &str) -> Field {
    Field::new(name, DataType::Decimal128(18, 2), true)
}

/// A `timestamp[s]` column without time zone.
fn ts_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Second, None), nullable)
}

/// A column of `name` and `ty`.
fn field(name: &str, ty: DataType, nullable: bool) -> Field {
    Field::new(name, ty, nullable)
}

/// A `list<utf8>` type (nullable items named `item`, Arrow's default).
fn utf8_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_that_do_not_match_the_schema_are_an_internal_error() {
        let err = batch(customers_schema(), vec![]).unwrap_err();
        assert_eq!(err.code(), "internal");
        assert!(matches!(err, Error::Internal { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("Arrow"), "{text}");
        assert!(text.contains("bug in autocrm"), "{text}");
        let report = crate::api::ErrorReport::from(&err);
        assert_eq!(report.kind, crate::api::ErrorKind::Internal);
        assert_eq!(report.code, "internal");
    }
}
