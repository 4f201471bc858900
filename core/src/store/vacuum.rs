//! Vacuum: rewrite a file into a fresh one that holds only its live records.
//!
//! [`Database::compact`] moves pages towards the front of the file and truncates it, but it
//! moves them whole: the slack at the end of a page (where a record stood before it was
//! rewritten shorter) and any free page it does not reclaim keep their old bytes. After an
//! erasure that is not good enough. A vacuum copies every record, table by table, into a new
//! file that never held anything else, then renames it over the original: no byte of an
//! erased value can survive, because it was never written to the new file.

use std::path::{Path, PathBuf};

use redb::{
    Key, MultimapTableDefinition, ReadTransaction, ReadableMultimapTable, ReadableTable,
    TableDefinition, Value, WriteTransaction,
};

use super::tables::*;
use super::Database;
use crate::error::{Error, Result};

fn copy_table<K: Key + 'static, V: Value + 'static>(
    from: &ReadTransaction,
    to: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<()> {
    let source = match from.open_table(def) {
        Ok(t) => t,
        // A table the file was written without: the new file gets it, empty.
        Err(redb::TableError::TableDoesNotExist(_)) => {
            to.open_table(def)?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut target = to.open_table(def)?;
    for entry in source.iter()? {
        let (k, v) = entry?;
        target.insert(k.value(), v.value())?;
    }
    Ok(())
}

fn copy_multimap<K: Key + 'static, V: Key + 'static>(
    from: &ReadTransaction,
    to: &WriteTransaction,
    def: MultimapTableDefinition<K, V>,
) -> Result<()> {
    let source = match from.open_multimap_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            to.open_multimap_table(def)?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut target = to.open_multimap_table(def)?;
    for entry in source.iter()? {
        let (k, values) = entry?;
        for v in values {
            target.insert(k.value(), v?.value())?;
        }
    }
    Ok(())
}

/// Where the new file is built: next to the original (the rename must not cross file
/// systems).
fn vacuum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".vacuum");
    path.with_file_name(name)
}

impl Database {
    /// Rewrites the file at `path` into a fresh file holding only its live records and
    /// replaces the original with it (see the module documentation): what to run after an
    /// erasure so no erased byte stays on the disk. The file must not be open (fails with
    /// `already_open` otherwise). A path where no file is fails with [`Error::Io`] (code
    /// `io`, what `vacuum`) and creates nothing: vacuuming is never how a database is made.
    /// A crash during the copy leaves the original as it was (and a `<name>.vacuum` file to
    /// delete); the replacement is one atomic rename.
    pub fn vacuum(path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        // Opening would create a missing file: an empty database "vacuumed" at a mistyped
        // path would hide the mistake.
        if let Err(source) = std::fs::metadata(path) {
            return Err(Error::Io {
                what: "vacuum",
                path: path.display().to_string(),
                source,
            });
        }
        // Opening it (and keeping it open until the rename) checks the format, runs
        // recovery, and holds the file lock so no writer slips in.
        let source = Database::open(path)?;
        let target_path = vacuum_path(path);
        let _ = std::fs::remove_file(&target_path);
        let target = redb::Database::create(&target_path).map_err(redb::Error::from)?;
        {
            let from = source.begin_read()?;
            let from = &from.tables.txn;
            let to = target.begin_write()?;
            copy_table(from, &to, META)?;
            macro_rules! table {
                ($def:ident) => {
                    copy_table(from, &to, $def)?;
                };
            }
            macro_rules! multimap {
                ($def:ident) => {
                    copy_multimap(from, &to, $def)?;
                };
            }
            every_table!(table, multimap);
            to.commit()?;
        }
        drop(target);
        drop(source);
        std::fs::rename(&target_path, path).map_err(|e| Error::from(redb::Error::Io(e)))?;
        Ok(())
    }
}
