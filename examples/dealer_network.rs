//! The main job: generate a dealer network, write it to a database file, reopen it, print counts,
//! one customer's 360° view and the time each phase took.
//!
//! ```sh
//! cargo run --release -p autocrm --example dealer_network -- [--customers 100000] [--db dealer_network.redb] [--seed 42]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use autocrm::{CustomerKey, Database};
use autocrm_synth::{Network, SynthConfig};

struct Args {
    customers: usize,
    db: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        customers: 100_000,
        db: "dealer_network.redb".into(),
        seed: 42,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--customers" => {
                args.customers = value()?.parse().map_err(|e| format!("--customers: {e}"))?
            }
            "--db" => args.db = value()?.into(),
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                println!("usage: dealer_network [--customers N] [--db PATH] [--seed S]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}; try --help")),
        }
    }
    Ok(args)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    if let Err(e) = run(&args) {
        eprintln!("error [{}]: {e}", e.code());
        std::process::exit(1);
    }
}

fn run(args: &Args) -> autocrm::Result<()> {
    let mut config = SynthConfig::new(args.customers);
    config.seed = args.seed;
    let network = Network::new(config);
    println!(
        "dealer network: {} customers, {} dealers, seed {} -> {}",
        args.customers,
        network.dealers().len(),
        args.seed,
        args.db.display()
    );
    // The main job writes a fresh file each run.
    match std::fs::remove_file(&args.db) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove old {}: {e}", args.db.display()),
    }

    let t = Instant::now();
    {
        // A bulk load can be redone from its source, so its batches skip the fsync; the last
        // commit below is durable and makes everything before it durable too.
        let db = Database::options().durable(false).open(&args.db)?;
        let mut next_report = 0u64;
        let stats = network.load(&db, 2_000, |s| {
            if s.customers >= next_report {
                eprint!(
                    "\r  loaded {:>9} customers, {:>10} touchpoints",
                    s.customers, s.touchpoints
                );
                next_report += 20_000;
            }
        })?;
        let mut tx = db.begin_write()?;
        tx.set_durable(true)?;
        tx.commit()?;
        eprintln!();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "generate + write: {:>8.2} s  ({} records, {:.0} records/s)",
            secs,
            stats.records(),
            stats.records() as f64 / secs
        );
    }

    let t = Instant::now();
    let db = Database::open(&args.db)?;
    println!("reopen:           {:>8.3} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let r = db.begin_read()?;
    let dealers = r.dealers()?.len();
    let (customers, vehicles, touchpoints) = (
        r.customer_count()?,
        r.vehicle_count()?,
        r.touchpoint_count()?,
    );
    println!("counts:           {:>8.3} s", t.elapsed().as_secs_f64());
    println!(
        "  {dealers} dealers, {customers} customers, {vehicles} vehicles, {touchpoints} touchpoints"
    );

    // Show a customer with a rich history: the first one of the first 1000 with the most
    // touchpoints and a vehicle.
    let t = Instant::now();
    let mut best = None;
    for id in r.customer_ids()?.into_iter().take(1000) {
        let rollup = r.rollup(id)?;
        if rollup.vehicles_current > 0
            && best.as_ref().is_none_or(|(_, n)| rollup.touchpoints() > *n)
        {
            best = Some((id, rollup.touchpoints()));
        }
    }
    println!("pick a customer:  {:>8.3} s", t.elapsed().as_secs_f64());
    let Some((id, _)) = best else {
        println!("no customer with a vehicle in this network");
        return Ok(());
    };

    let t = Instant::now();
    let view = r.customer_360(id, 10)?;
    let took = t.elapsed();
    println!("customer 360:     {:>8.3} ms", took.as_secs_f64() * 1e3);
    let phone = view.customer.phones.first().cloned();
    let plate = view
        .current_vehicles
        .first()
        .and_then(|v| v.vehicle.plate.clone());
    println!();
    print!("{view}");
    println!();

    // The same customer found by the keys a call-centre agent has at hand.
    for key in [
        phone,
        plate,
        view.current_vehicles.first().map(|v| v.vehicle.vin.clone()),
    ]
    .into_iter()
    .flatten()
    {
        let t = Instant::now();
        let parsed = CustomerKey::parse(&key).expect("generated keys are valid");
        let found = r.find_customers(&parsed)?;
        println!(
            "lookup {key:<20} -> {:?} in {:.1} µs",
            found.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            t.elapsed().as_secs_f64() * 1e6
        );
    }
    Ok(())
}
