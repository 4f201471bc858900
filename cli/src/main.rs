//! `autocrm`: the command-line tool over an autocrm database file — bulk import with a progress
//! bar, the data-quality report, a customer's 360° view, source conflicts, the dealer feedback
//! queue, duplicate candidates and merges, and generated dirty demo files.
//!
//! Every rule lives in the `autocrm` crate; this tool parses arguments, calls it and prints.
//! `--at` / `--as-of` default to now / today by core's clock at `--utc-offset` (+08:00), the
//! clock core also judges future births and touchpoints by (`WriteTxn::now`).

/// `println!` that ends the program quietly when stdout is closed early
/// (`autocrm feedback | head`), where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => { $crate::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` with the same care as [`say!`].
macro_rules! say_inline {
    ($($arg:tt)*) => { $crate::write_out(format_args!($($arg)*)) };
}

mod admin;
mod feed;
mod print;
mod scoped;
mod steward;
mod sync;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use autocrm::access::{Permission, Role, Scope};
use autocrm::api::Store;
use autocrm::audit::AuditHead;
use autocrm::import::ImportReport;
use autocrm::integration::RecordKind;
use autocrm::kpi::Period;
use autocrm::{
    Clock, ConsentChannel, CustomerId, Database, Date, DateTime, DealerId, Named, UtcOffset,
};
use autocrm_synth::dirty::{self, DirtyConfig};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// The autocrm command-line tool: one customer-keyed store for a carmaker and its dealers.
///
/// Every command works on one database file, given with --db or the AUTOCRM_DB environment
/// variable (created if missing). Start with `autocrm generate demo/ --db crm.redb` to get dirty
/// source files, then `autocrm import` them and look at `autocrm quality`.
#[derive(Parser, Debug)]
#[command(name = "autocrm", version, about, long_about)]
struct Cli {
    /// The database file.
    #[arg(
        long,
        env = "AUTOCRM_DB",
        global = true,
        default_value = "autocrm.redb"
    )]
    db: PathBuf,
    /// The dealer network's UTC offset: "now" (time received, time of an operator's action)
    /// and "today" are read from the system clock at this offset. Every tool defaults to
    /// +08:00, so the same file gets the same times whichever writes it.
    #[arg(
        long,
        env = "AUTOCRM_UTC_OFFSET",
        global = true,
        default_value = "+08:00"
    )]
    utc_offset: UtcOffset,
    /// Make the call as this scope: hq:<role>, dealer:<code> or owner:<customer id>
    /// (docs/access.md). It then sees only what the scope may see, masked, and is recorded
    /// in the audit trail. Without it the tool has full access, as the file's administrator.
    #[arg(long = "as", env = "AUTOCRM_AS", global = true, value_name = "SCOPE")]
    scope: Option<String>,
    /// Who acts under --as, for the audit trail (default: $USER).
    #[arg(long, env = "AUTOCRM_ACTOR", global = true)]
    actor: Option<String>,
    /// Why, for the audit trail (e.g. a ticket number).
    #[arg(long, global = true)]
    purpose: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Import CSV or JSON Lines files of customers, vehicles, touchpoints or leads.
    ///
    /// Rows are matched to existing customers (national ID / credit code, VIN, phone + name),
    /// merged field by field by source priority, and rejected rows go to the sending dealer's
    /// feedback queue. Importing the same file again changes nothing. Column sets:
    /// docs/import.md.
    Import(ImportArgs),
    /// Data-quality report by dealer: valid customer information ratio, rejections by reason,
    /// open conflicts, feedback-queue size and age.
    Quality {
        /// The day the report is for (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<Date>,
    },
    /// Print a customer's 360° view, with where each field value came from.
    Customer {
        /// Customer id (C123 or 123), mobile phone, VIN, plate, national ID or credit code.
        key: String,
        /// Touchpoints of the timeline to show.
        #[arg(long, default_value_t = 20)]
        timeline: usize,
    },
    /// Compute a KPI (docs: DOMAIN §5, e.g. after_sales_churn, retention, lead_conversion)
    /// for one or more periods, as CSV on stdout. Under --as it counts only what the scope
    /// sees (a dealer: its own customers and records).
    Kpi {
        /// The KPI's name; `autocrm kpi list` prints them.
        name: String,
        /// A period: 2025, 2025-H1, 2025-Q3 or 2025-07; repeat for several (e.g. each month).
        #[arg(long = "period")]
        periods: Vec<Period>,
        /// Every month of this year, one row set per month.
        #[arg(long, conflicts_with = "periods")]
        months: Option<i32>,
        /// Group rows by network, dealer, region, province or model.
        #[arg(long, default_value = "network")]
        by: String,
    },
    /// Export the whole store as Parquet files for DuckDB, Spark, Polars…: one folder per
    /// table in DIR, touchpoints partitioned by month (touchpoints/month=YYYY-MM/), and a
    /// _manifest.json written last (docs/export.md). DIR must be new, empty or an earlier
    /// export, which is replaced. Under --as only what the scope sees, masked, audited.
    Export {
        /// The folder to write.
        dir: PathBuf,
        /// The day the home_dealers table is computed for (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<Date>,
        /// Append what changed since the folder's export (part-<position> files and
        /// _deletions) instead of writing a snapshot; needs a snapshot taken with the change
        /// feed on (see --follow).
        #[arg(long)]
        incremental: bool,
        /// Keep the export in step with the change feed as consumer NAME: registered before a
        /// snapshot (turning the feed on) and acknowledged after each export, so the feed keeps
        /// exactly the changes the next increment needs.
        #[arg(long, value_name = "NAME")]
        follow: Option<String>,
    },
    /// List conflicts: values a source offered that were not applied.
    Conflicts {
        /// Also list resolved conflicts.
        #[arg(long)]
        all: bool,
        /// Only this customer's (id or any key `customer` accepts).
        #[arg(long)]
        customer: Option<String>,
    },
    /// Resolve a conflict: --accept applies the offered value, --reject keeps the stored one.
    Resolve {
        /// Conflict id (X12 or 12).
        id: String,
        /// Apply the offered value.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        accept: bool,
        /// Keep the stored value.
        #[arg(long)]
        reject: bool,
        /// Who decides (kept with the conflict). Under --as the operator is --actor.
        #[arg(long)]
        by: Option<String>,
    },
    /// List a dealer's feedback queue: rejected records waiting for correction.
    Feedback {
        /// Dealer code; without it, every queue.
        #[arg(long)]
        dealer: Option<String>,
    },
    /// List duplicate candidates: customers that are probably the same person or company.
    Duplicates {
        /// Minimum score (0–100).
        #[arg(long, default_value_t = 70)]
        min_score: u8,
        /// Only candidates of this customer.
        #[arg(long)]
        customer: Option<String>,
        /// Print at most this many pairs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Merge customer MERGED into SURVIVOR: vehicles, touchpoints, relations, leads,
    /// complaints and surveys move; MERGED's id keeps finding SURVIVOR.
    Merge {
        /// The customer that stays.
        survivor: String,
        /// The customer merged into it.
        merged: String,
        /// Who merges (recorded). Under --as the operator is --actor.
        #[arg(long)]
        by: Option<String>,
    },
    /// Erase a customer's personal data on request (PIPL art. 47, GDPR art. 17): name, IDs,
    /// phones, address, birth date, notes and source values go; KPIs, segments and the points
    /// ledger stay as they were (docs/access.md). Audited; the file is rewritten afterwards
    /// (a vacuum) so the old bytes leave the disk. Prints a receipt to keep with the audit head.
    Erase {
        /// The customer: id (`C42` or `42`), phone, national ID, credit code, VIN or plate.
        customer: String,
        /// Who erases (recorded). Under --as the operator is --actor.
        #[arg(long)]
        by: Option<String>,
        /// Why: the request's reference (recorded in the register and the audit trail).
        #[arg(long)]
        reason: String,
        /// Skip the rewrite (the old bytes then stay in freed pages until reused; run it
        /// later, e.g. after several erasures).
        #[arg(long)]
        no_vacuum: bool,
    },
    /// List the source systems and their priority per field group.
    Sources,
    /// Check the file's integrity: redb's page checksums, every record (each carries a
    /// checksum), every index against its records, every rollup against a rebuild, and the
    /// points ledger. Prints each problem; exits non-zero when there is one.
    ///
    /// Opens the file read-write (redb's page check needs it, and repairs what it can, as after
    /// a crash: back up a damaged file first if you want it as it was). --read-only checks
    /// everything but redb's pages and never writes.
    Check {
        /// Open read-only: skip redb's page check, write nothing.
        #[arg(long)]
        read_only: bool,
    },
    /// The audit trail of scoped calls: verify its hash chain, print its head to anchor
    /// elsewhere, or list entries.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// The change feed: list changes, register consumers and move their positions, set the
    /// retention, prune (docs/sync.md).
    Changes {
        #[command(subcommand)]
        action: feed::ChangesCommand,
    },
    /// Replicas of HQ's file: register, init, push, serve, pull, status (docs/sync.md).
    Sync {
        #[command(subcommand)]
        action: sync::SyncCommand,
    },
    /// The HQ roles and their permissions (stored in the file; docs/access.md).
    Role {
        #[command(subcommand)]
        action: RoleCommand,
    },
    /// Write dirty demo exports (finance, invoice, DMS) of a synthetic network into DIR and
    /// register its dealers in the database.
    Generate {
        /// Directory to write the CSV files to.
        dir: PathBuf,
        /// Customers in the network.
        #[arg(long, default_value_t = 2000)]
        customers: usize,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Share of rows with dirt (0.0–1.0).
        #[arg(long, default_value_t = 0.1)]
        dirt: f64,
        /// Write GBK-encoded files, as Chinese source systems export them.
        #[arg(long)]
        gbk: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recompute the hash chain; exits non-zero naming the first entry edited, removed,
    /// inserted or reordered.
    Verify {
        /// A head printed earlier by `autocrm audit head` (SEQ:HASH): also checks that the
        /// chain still contains it, so a truncated tail is detected too.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Print the chain head (SEQ:HASH) to anchor elsewhere.
    Head,
    /// List entries, oldest first.
    Log {
        /// Only entries about this customer (id or any key `customer` accepts).
        #[arg(long)]
        customer: Option<String>,
        /// Only entries after this sequence number.
        #[arg(long)]
        after: Option<u64>,
        /// Print at most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand, Debug)]
enum RoleCommand {
    /// List the roles.
    List,
    /// Store a role (replacing one of that name).
    Set {
        /// Role name (lowercase letters, digits, _).
        name: String,
        /// Its permissions, comma-separated (e.g. read_customers,see_phone).
        #[arg(long, value_delimiter = ',', required = true)]
        permissions: Vec<String>,
        /// Limit the role to customers consenting to marketing on this channel
        /// (phone, sms, email, wechat, app, mail).
        #[arg(long)]
        consented: Option<String>,
    },
    /// Remove a role.
    Remove {
        /// Role name.
        name: String,
    },
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// Files to import, in order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Kind of record: customer, vehicle, touchpoint or lead (default: from the file name,
    /// e.g. customers_dms.csv).
    #[arg(long)]
    kind: Option<String>,
    /// csv or jsonl (default: from the extension).
    #[arg(long)]
    format: Option<String>,
    /// auto, utf-8 or gbk.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Source system of rows without a source_system column.
    #[arg(long)]
    source: Option<String>,
    /// When the rows were received (YYYY-MM-DDTHH:MM; default now).
    #[arg(long)]
    received_at: Option<DateTime>,
    /// Write the import report (summary and rejected rows) as CSV to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// An error to print: what went wrong, with the file when one is involved.
struct Failure(String);

impl From<autocrm::Error> for Failure {
    fn from(e: autocrm::Error) -> Failure {
        Failure(format!("{e} [{}]", e.code()))
    }
}

type CliResult<T = ()> = Result<T, Failure>;

impl Command {
    /// The command's name on the command line.
    fn name(&self) -> &'static str {
        match self {
            Command::Import(_) => "import",
            Command::Quality { .. } => "quality",
            Command::Customer { .. } => "customer",
            Command::Kpi { .. } => "kpi",
            Command::Export { .. } => "export",
            Command::Conflicts { .. } => "conflicts",
            Command::Resolve { .. } => "resolve",
            Command::Feedback { .. } => "feedback",
            Command::Duplicates { .. } => "duplicates",
            Command::Merge { .. } => "merge",
            Command::Erase { .. } => "erase",
            Command::Sources => "sources",
            Command::Check { .. } => "check",
            Command::Audit { .. } => "audit",
            Command::Role { .. } => "role",
            Command::Changes { .. } => "changes",
            Command::Sync { .. } => "sync",
            Command::Generate { .. } => "generate",
        }
    }

    /// Whether the command only reads: it then opens the file read-only, so it never writes
    /// it (not even redb's bookkeeping on close) and works on a read-only file or mount.
    fn reads_only(&self) -> bool {
        match self {
            Command::Quality { .. }
            | Command::Customer { .. }
            | Command::Kpi { .. }
            | Command::Conflicts { .. }
            | Command::Feedback { .. }
            | Command::Duplicates { .. }
            | Command::Sources
            | Command::Audit { .. } => true,
            Command::Role { action } => matches!(action, RoleCommand::List),
            Command::Changes { action } => action.reads_only(),
            Command::Sync { action } => action.reads_only(),
            Command::Export { follow, .. } => follow.is_none(),
            Command::Check { read_only } => *read_only,
            Command::Import(_)
            | Command::Resolve { .. }
            | Command::Merge { .. }
            | Command::Erase { .. }
            | Command::Generate { .. } => false,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A damaged file can make the storage engine panic. The guard turns the panic into a
    // `corrupt` error printed like every other; the default hook would first print a panic
    // message and a backtrace hint, as if the tool had crashed.
    std::panic::set_hook(Box::new(|_| {}));
    let db = cli.db.clone();
    let outcome = autocrm::guard(|| Ok(run(cli)))
        .unwrap_or_else(|e| Err(Failure(format!("{}: {e} [{}]", db.display(), e.code()))));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("error: {}", print::terminal_safe(&message));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> CliResult {
    let scope = cli.scope.as_deref().map(str::parse::<Scope>).transpose()?;
    let mut db = Database::options()
        .clock(Clock::system(cli.utc_offset))
        // A scoped call is audited, which writes.
        .read_only(scope.is_none() && cli.command.reads_only())
        .open(&cli.db)
        .map_err(|e| Failure(format!("{}: {e} [{}]", cli.db.display(), e.code())))?;
    if let Some(scope) = scope {
        let actor = cli
            .actor
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "cli".into());
        let labels = db.clone();
        let store = Store::new(db);
        let mut scoped = store.scoped(&scope, &actor)?;
        if let Some(p) = &cli.purpose {
            scoped = scoped.with_purpose(p)?;
        }
        let vacuum = matches!(
            cli.command,
            Command::Erase {
                no_vacuum: false,
                ..
            }
        );
        // `labels`: the same file, for dealer codes, the clock and the names a steward lists.
        let outcome = scoped::run(&scoped, &labels, cli.command);
        drop(labels);
        store.close();
        outcome?;
        if vacuum {
            admin::vacuum_after_erasure(&cli.db)?;
        }
        return Ok(());
    }
    match cli.command {
        Command::Check { .. } => {
            let report = db.check()?;
            say_inline!("{report}");
            if report.is_ok() {
                Ok(())
            } else {
                Err(Failure(format!(
                    "{}: {} problems found; the file is damaged: restore a backup, or export \
                     what still reads",
                    cli.db.display(),
                    report.problems.len()
                )))
            }
        }
        Command::Import(args) => steward::import_files(&db, &db, &args),
        Command::Quality { as_of } => steward::quality(&db, &db, as_of),
        Command::Customer { key, timeline } => {
            let rtx = db.begin_read()?;
            let ids = find(&rtx, &key)?;
            for id in ids {
                say_inline!("{}", rtx.customer_360(id, timeline)?);
                for c in rtx.conflicts_of(id)?.iter().filter(|c| c.is_open()) {
                    say!("  open conflict {}", print::conflict_line(c));
                }
            }
            Ok(())
        }
        Command::Kpi {
            name,
            periods,
            months,
            by,
        } => steward::kpi(&db, &name, &by, periods, months),
        Command::Export {
            dir,
            as_of,
            incremental,
            follow,
        } => feed::export(&db, &dir, as_of, incremental, follow.as_deref()),
        Command::Conflicts { all, customer } => steward::conflicts(&db, all, customer.as_deref()),
        Command::Resolve {
            id,
            accept,
            reject: _,
            by,
        } => steward::resolve(&db, &id, accept, by.as_deref()),
        Command::Feedback { dealer } => steward::feedback(&db, &db, dealer.as_deref()),
        Command::Duplicates {
            min_score,
            customer,
            limit,
        } => steward::duplicates(&db, &db, min_score, customer.as_deref(), limit),
        Command::Merge {
            survivor,
            merged,
            by,
        } => steward::merge(&db, &survivor, &merged, by.as_deref()),
        Command::Sources => {
            print::sources(&db.begin_read()?.sources()?);
            Ok(())
        }
        Command::Audit { action } => admin::audit(&db, action),
        Command::Role { action } => admin::role(&db, action),
        Command::Changes { action } => feed::run(&db, action),
        Command::Sync { action } => sync::run(&db, action),
        Command::Erase {
            customer,
            by,
            reason,
            no_vacuum,
        } => {
            let by = by.ok_or_else(|| {
                Failure("erase needs --by <operator> (or --as SCOPE with --actor)".into())
            })?;
            admin::erase(&db, &customer, Some(&by), &reason)?;
            if !no_vacuum {
                drop(db);
                admin::vacuum_after_erasure(&cli.db)?;
            }
            Ok(())
        }
        Command::Generate {
            dir,
            customers,
            seed,
            dirt,
            gbk,
        } => {
            let config = DirtyConfig {
                seed,
                dirt,
                gbk,
                ..DirtyConfig::new(customers)
            };
            let added = dirty::insert_dealers(&db, &config)?;
            let files = dirty::write_dirty_csvs(&dir, &config)?;
            say!(
                "registered {added} dealers in {}; wrote {} files ({}) to {}:",
                cli.db.display(),
                files.files.len(),
                files.encoding,
                dir.display()
            );
            for f in &files.files {
                say!(
                    "  {:<28} {:>7} {} rows from {}",
                    file_name(&f.path),
                    f.rows,
                    f.kind.name(),
                    f.source_system
                );
            }
            let dirt: Vec<String> = files
                .injected
                .iter()
                .map(|(what, n)| format!("{what} {n}"))
                .collect();
            say!("dirt injected: {}", dirt.join(", "));
            Ok(())
        }
    }
}

/// Writes the reports as CSV: to `out` for one imported file; for several, one file per import
/// next to `out`, named `<out stem>-<file stem>.csv`.
fn write_reports(out: &Path, reports: &[ImportReport]) -> CliResult {
    for r in reports {
        let path = if reports.len() == 1 {
            out.to_path_buf()
        } else {
            let stem = |p: &Path| {
                p.file_stem()
                    .map_or(String::new(), |s| s.to_string_lossy().into_owned())
            };
            out.with_file_name(format!("{}-{}.csv", stem(out), stem(Path::new(&r.file))))
        };
        let fail = |e: std::io::Error| {
            Failure(format!("{}: cannot write the report: {e}", path.display()))
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(fail)?);
        r.write_csv(&mut file).map_err(fail)?;
        std::io::Write::flush(&mut file).map_err(fail)?;
        say!("report written to {}", path.display());
    }
    Ok(())
}

fn progress_bar(path: &Path, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({bytes_per_sec}, eta {eta})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_prefix(file_name(path));
    bar
}

fn kind_from_name(path: &Path) -> CliResult<RecordKind> {
    RecordKind::from_file_name(path).ok_or_else(|| {
        Failure(format!(
            "{}: cannot tell the kind of record from the file name; pass --kind \
                 customer|vehicle|touchpoint|lead (or name the file customers_….csv)",
            path.display()
        ))
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Customers matching a key: an id (merged ids find their survivor), phone, VIN, plate,
/// national ID or credit code.
fn find(rtx: &autocrm::ReadTxn, key: &str) -> CliResult<Vec<CustomerId>> {
    let ids = rtx.find_customers(&admin::parse_key(key)?)?;
    if ids.is_empty() {
        return Err(Failure(format!("no customer matches {key:?}")));
    }
    Ok(ids)
}

/// A head printed by `autocrm audit head`: `SEQ:HASH`.
fn parse_anchor(text: &str) -> CliResult<AuditHead> {
    text.parse::<AuditHead>().map_err(|_| {
        Failure(format!(
            "{text:?} is not an audit head; pass what `autocrm audit head` printed (SEQ:HASH)"
        ))
    })
}

/// A role from permission names and an optional consent channel name.
fn parse_role(permissions: &[String], consented: Option<&str>) -> CliResult<Role> {
    let permissions = permissions
        .iter()
        .map(|p| {
            Permission::from_name(p.trim()).ok_or_else(|| {
                Failure(format!(
                    "{p:?} is not a permission; the permissions are {}",
                    Permission::names().join(", ")
                ))
            })
        })
        .collect::<CliResult<Vec<_>>>()?;
    let consented_channel = consented
        .map(|c| {
            ConsentChannel::from_name(c).ok_or_else(|| {
                Failure(format!(
                    "{c:?} is not a consent channel; the channels are {}",
                    ConsentChannel::names().join(", ")
                ))
            })
        })
        .transpose()?;
    Ok(Role {
        permissions,
        consented_channel,
    })
}

fn dealer_id(rtx: &autocrm::ReadTxn, code: &str) -> CliResult<DealerId> {
    rtx.dealer_by_code(code)?.ok_or_else(|| {
        Failure(format!(
            "no dealer has code {code:?}; `autocrm quality` lists them"
        ))
    })
}

fn parse_id(text: &str, prefix: char, what: &str) -> CliResult<u64> {
    let t = text.trim();
    t.strip_prefix([prefix, prefix.to_ascii_lowercase()])
        .unwrap_or(t)
        .parse()
        .map_err(|_| {
            Failure(format!(
                "{text:?} is not a {what} id (e.g. {prefix}12 or 12)"
            ))
        })
}

/// Writes to stdout; a closed pipe ends the program successfully (the reader has what it
/// wanted), any other write error with a message.
fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let text = args.to_string();
    let text = print::terminal_safe(&text);
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}
