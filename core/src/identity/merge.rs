//! Merging two customers, redirects from merged ids, and the rollup rebuilt from records.

use redb::{ReadableMultimapTable, ReadableTable};

use super::{MergeCounts, MergeRecord};
use crate::codec::{self, ModelKind};
use crate::consent::Consents;
use crate::customer::{Customer, Party};
use crate::date::DateTime;
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::{CustomerId, VehicleId};
use crate::rollup::Rollup;
use crate::store::records::{RecordTables, COMPLAINT_TABLES, LEAD_TABLES, SURVEY_TABLES};
use crate::store::{decode_stored, get_record, ReadTxn, ReadView, Tx, WriteTxn};
use crate::touchpoint::Touchpoint;
use crate::vehicle::OwnershipHistory;
use crate::{Complaint, Lead, Survey};

/// Longest redirect chain followed before the file is declared corrupt. Merges compress
/// chains to one hop, so a longer one can only come from damage.
const MAX_HOPS: usize = 1024;

/// Follows redirects from `id` to a live customer. `live` says whether an id is a stored
/// customer, `redirect` where a merged id points.
fn resolve(
    id: CustomerId,
    live: impl Fn(u64) -> Result<bool>,
    redirect: impl Fn(u64) -> Result<Option<u64>>,
) -> Result<Option<CustomerId>> {
    let mut at = id.0;
    for _ in 0..MAX_HOPS {
        if live(at)? {
            return Ok(Some(CustomerId(at)));
        }
        match redirect(at)? {
            Some(next) => at = next,
            None => return Ok(None),
        }
    }
    Err(Error::Corrupt {
        what: "customer redirects",
        source: codec::DecodeError::Malformed(format!("redirect chain from {id} does not end"))
            .into(),
    })
}

impl ReadTxn {
    /// The live customer `id` stands for: itself, or the customer it was merged into
    /// (following chains: A merged into B, B later into C, gives C). [`Error::NotFound`] if no
    /// live customer is at the end (never stored, deleted, or merged into one deleted since).
    pub fn resolve_customer(&self, id: CustomerId) -> Result<CustomerId> {
        let customers = self.tables.customers()?;
        let redirects = self.tables.redirects()?;
        resolve(
            id,
            |c| Ok(customers.get(c)?.is_some()),
            |c| Ok(redirects.get(c)?.map(|v| v.value())),
        )?
        .ok_or_else(|| Error::not_found("customer", id))
    }

    /// The customer `id` stands for, with its id: one read for a live id, redirects followed
    /// for a merged one.
    pub(crate) fn live_customer(&self, id: CustomerId) -> Result<(CustomerId, Customer)> {
        if let Some(c) = get_record(self.tables.customers()?, id.0)? {
            return Ok((id, c));
        }
        let live = self.resolve_customer(id)?;
        Ok((live, self.customer(live)?))
    }

    /// Every merge whose data ended in `survivor`: the merges into it and, recursively, into
    /// the customers merged into it; oldest first.
    pub fn merges_of(&self, survivor: CustomerId) -> Result<Vec<MergeRecord>> {
        let mut out: Vec<MergeRecord> = merges_into(&self.tables, survivor)?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        out.sort_by_key(|m| (m.at, m.merged));
        Ok(out)
    }
}

/// The merge records (with their keys) of every customer merged into `survivor`, directly or
/// through a chain, for either kind of transaction; in no particular order.
pub(crate) fn merges_into(
    t: &impl ReadView,
    survivor: CustomerId,
) -> Result<Vec<((u64, u64), MergeRecord)>> {
    let merges = t.merges()?;
    let mut out = Vec::new();
    let mut todo = vec![survivor.0];
    while let Some(s) = todo.pop() {
        for entry in merges.range((s, 0)..=(s, u64::MAX))? {
            let (k, v) = entry?;
            let key = k.value();
            todo.push(key.1);
            out.push((key, decode_stored(v.value())?));
        }
    }
    Ok(out)
}

impl Tx<'_> {
    /// The live customer `id` stands for, as [`ReadTxn::resolve_customer`].
    pub fn resolve_customer(&self, id: CustomerId) -> Result<CustomerId> {
        self.redirected_customer(id.0)?
            .ok_or_else(|| Error::not_found("customer", id))
    }

    /// The live customer at the end of `id`'s redirects, if any (`id` itself if live).
    pub(crate) fn redirected_customer(&self, id: u64) -> Result<Option<CustomerId>> {
        let customers = self.t.customers()?;
        // A live id (the usual case) needs no look at the redirects.
        if customers.get(id)?.is_some() {
            return Ok(Some(CustomerId(id)));
        }
        let redirects = self.t.redirects()?;
        resolve(
            CustomerId(id),
            |c| Ok(customers.get(c)?.is_some()),
            |c| Ok(redirects.get(c)?.map(|v| v.value())),
        )
    }

    /// Removes the merge records of every customer merged (directly or through a chain) into
    /// `survivor`, and their redirects, and returns those merged ids. A merge record keeps
    /// the merged customer's full record, so it goes when the survivor is deleted; the old
    /// ids then resolve to nothing, like the survivor's own.
    pub(crate) fn forget_merges_into(&mut self, survivor: CustomerId) -> Result<Vec<CustomerId>> {
        let mut merged = Vec::new();
        let mut todo = vec![survivor.0];
        let mut merges = self.t.merges()?;
        let mut redirects = self.t.redirects()?;
        while let Some(s) = todo.pop() {
            let found: Vec<u64> = merges
                .range((s, 0)..=(s, u64::MAX))?
                .map(|e| e.map(|e| e.0.value().1))
                .collect::<Result<_, _>>()?;
            for m in found {
                merges.remove((s, m))?;
                redirects.remove(m)?;
                merged.push(CustomerId(m));
                todo.push(m);
            }
        }
        Ok(merged)
    }

    /// Merges customer `merged` into `survivor` and returns the record of the merge.
    ///
    /// Moves to the survivor: vehicles (every ownership period of the merged customer names
    /// the survivor; periods are kept as they were, so a vehicle that passed between the two
    /// shows two consecutive periods of the survivor), touchpoints (re-keyed under the
    /// survivor, same ids), relations in both directions (one between the two becomes
    /// nothing; one the survivor already has is not doubled), leads, complaints, surveys,
    /// and consents (the two histories combined in time order, so the latest event decides as
    /// before). The survivor's rollup is rebuilt from its records, so it is exactly what
    /// writing everything to the survivor from the start would have given.
    ///
    /// The survivor keeps its field values; its empty fields take the merged customer's
    /// (address fields only where the two agree on the location fields both have); phones
    /// and interests are unioned. National ID, credit code and phone indexes then point at
    /// the survivor. The merged customer is removed, its id becomes a redirect
    /// ([`ReadTxn::resolve_customer`]; `customer_360` and `find_customers` follow it), and
    /// the [`MergeRecord`] keeps its full record. Source records that wrote the merged
    /// customer find the survivor: the one on its record is re-pointed, older ones are
    /// followed through the redirect.
    ///
    /// Refused with [`Error::InvalidOperation`], before anything is written: the same customer
    /// twice ([`Refusal::MergeWithItself`]), an id already merged ([`Refusal::AlreadyMerged`]),
    /// a person with an organisation ([`Refusal::MergePersonWithOrganisation`]), two
    /// different national IDs or credit codes ([`Refusal::MergeDifferentKeys`]), and a merged
    /// customer with loyalty data (membership, postings, balances, tier record;
    /// [`Refusal::MergedHasLoyaltyData`]) — the append-only ledger names its customer on every posting, so
    /// it cannot move without rewriting history; merge the other way round (the member as
    /// survivor) instead. `by` must not be blank; `at` must be a plausible date.
    ///
    /// Touchpoints that move do not earn loyalty points afterwards (earning happens when a
    /// touchpoint is written); the survivor's next tier review sees its merged history.
    pub fn merge_customers(
        &mut self,
        survivor: CustomerId,
        merged: CustomerId,
        at: DateTime,
        by: &str,
    ) -> Result<MergeRecord> {
        let plan = self.plan_merge(survivor, merged, at, by)?;
        self.writing(|tx| tx.apply_merge(plan))
    }

    /// Every check of a merge, and the customer the survivor becomes; writes nothing.
    fn plan_merge(
        &self,
        survivor: CustomerId,
        merged: CustomerId,
        at: DateTime,
        by: &str,
    ) -> Result<Plan> {
        crate::validate::plausible_date("at", at.date())?;
        let by = crate::validate::optional_text("by", by, 64)?
            .ok_or_else(|| ValidationError::new("by", Rule::Required, by))?;
        // An erased customer takes no data from another record, nor gives any.
        self.refuse_if_erased(survivor)?;
        self.refuse_if_erased(merged)?;
        if survivor == merged {
            return Err(Error::refused(
                Refusal::MergeWithItself,
                format!("customer {survivor} cannot be merged into itself"),
            ));
        }
        for (role, id) in [("survivor", survivor), ("merged customer", merged)] {
            if self.t.customers()?.get(id.0)?.is_none() {
                let into = self.t.redirects()?.get(id.0)?.map(|v| v.value());
                if let Some(into) = into {
                    let now = self.redirected_customer(into)?;
                    return Err(Error::refused(
                        Refusal::AlreadyMerged,
                        format!(
                            "the {role} {id} was already merged into {}",
                            now.unwrap_or(CustomerId(into))
                        ),
                    ));
                }
                return Err(Error::not_found("customer", id));
            }
        }
        let s = self.customer(survivor)?;
        let m = self.customer(merged)?;
        if s.is_organisation() != m.is_organisation() {
            return Err(Error::refused(
                Refusal::MergePersonWithOrganisation,
                format!(
                    "customer {survivor} and customer {merged} are a person and an organisation"
                ),
            ));
        }
        let keys = [
            ("national IDs", s.national_id(), m.national_id()),
            ("credit codes", s.credit_code(), m.credit_code()),
        ];
        for (what, a, b) in keys {
            if let (Some(a), Some(b)) = (a, b) {
                if a != b {
                    return Err(Error::refused(Refusal::MergeDifferentKeys, format!("customer {survivor} and customer {merged} have different {what} ({a}, {b})")));
                }
            }
        }
        if self.has_loyalty_data(merged)? {
            return Err(Error::refused(
                Refusal::MergedHasLoyaltyData,
                format!("customer {merged} has loyalty data (membership, points or tier)"),
            ));
        }
        let (customer, filled, phones_added) = combine(&s, &m);
        // Both customers' values were checked when they were received.
        let customer = customer.normalised_at(self.now().max(at))?;
        Ok(Plan {
            survivor,
            merged,
            at,
            by,
            before: s,
            old: m,
            customer,
            filled,
            phones_added,
        })
    }

    fn has_loyalty_data(&self, c: CustomerId) -> Result<bool> {
        if self.t.members()?.get(c.0)?.is_some()
            || self.t.tiers()?.get(c.0)?.is_some()
            || self.has_postings(c)?
        {
            return Ok(true);
        }
        let balances = self.t.balances()?;
        let found = balances.range((c.0, 0)..=(c.0, u64::MAX))?.next().is_some();
        Ok(found)
    }

    fn apply_merge(&mut self, p: Plan) -> Result<MergeRecord> {
        let (s, m) = (p.survivor.0, p.merged.0);
        let mut counts = MergeCounts {
            phones_added: p.phones_added,
            ..MergeCounts::default()
        };

        // The customer record and its unique and phone indexes.
        {
            let mut nids = self.t.customer_by_national_id()?;
            let mut codes = self.t.customer_by_credit_code()?;
            let mut phones = self.t.customer_by_phone()?;
            for (c, id) in [(&p.old, m), (&p.before, s)] {
                if let Some(k) = c.national_id() {
                    nids.remove(k)?;
                }
                if let Some(k) = c.credit_code() {
                    codes.remove(k)?;
                }
                for ph in &c.phones {
                    phones.remove(ph.as_str(), id)?;
                }
            }
            if let Some(k) = p.customer.national_id() {
                nids.insert(k, s)?;
            }
            if let Some(k) = p.customer.credit_code() {
                codes.insert(k, s)?;
            }
            for ph in &p.customer.phones {
                phones.insert(ph.as_str(), s)?;
            }
            let mut customers = self.t.customers()?;
            customers.insert(s, codec::encode(&p.customer).as_slice())?;
            customers.remove(m)?;
        }
        if let Some(src) = &p.old.source {
            // The source record on the merged customer finds the survivor directly; older
            // ones go through the redirect (see `source_lookup`).
            self.source_remember(ModelKind::Customer, src, s)?;
        }

        // Vehicles: ownership periods name the survivor.
        let vehicles: Vec<u64> = {
            let links = self.t.customer_vehicles()?;
            let ids = links
                .get(m)?
                .map(|v| v.map(|v| v.value()))
                .collect::<std::result::Result<_, _>>()?;
            ids
        };
        {
            let mut owners = self.t.ownership()?;
            let mut links = self.t.customer_vehicles()?;
            for &v in &vehicles {
                let mut h: OwnershipHistory = get_record(&*owners, v)?
                    .ok_or_else(|| Error::dangling("customer vehicles", "vehicle", v))?;
                for o in h.0.iter_mut().filter(|o| o.customer == p.merged) {
                    o.customer = p.survivor;
                }
                owners.insert(v, codec::encode(&h).as_slice())?;
                links.insert(s, v)?;
            }
            links.remove_all(m)?;
        }
        counts.vehicles = vehicles.len() as u32;

        // Touchpoints: same ids, re-keyed under the survivor.
        {
            let mut rows = self.t.touchpoints()?;
            let mut keys = self.t.touchpoint_keys()?;
            let mut moved: Vec<(i64, u64, Touchpoint)> = Vec::new();
            for entry in rows.range((m, i64::MIN, 0)..=(m, i64::MAX, u64::MAX))? {
                let (k, v) = entry?;
                let (_, at, id) = k.value();
                moved.push((at, id, decode_stored(v.value())?));
            }
            for (at, id, mut t) in moved {
                rows.remove((m, at, id))?;
                t.customer = p.survivor;
                rows.insert((s, at, id), codec::encode(&t).as_slice())?;
                keys.insert(id, (s, at))?;
                counts.touchpoints += 1;
            }
        }

        // Relations, both directions.
        let mut dropped = Vec::new();
        for r in self.relations_of(p.merged)? {
            let k = r.kind as u8;
            self.t.relations()?.remove((r.from.0, k, r.to.0))?;
            self.t.relations_back()?.remove((r.to.0, k, r.from.0))?;
            let from = if r.from == p.merged { s } else { r.from.0 };
            let to = if r.to == p.merged { s } else { r.to.0 };
            if from == to {
                counts.relations_between += 1;
                dropped.push((r.from, r.kind, r.to));
                continue;
            }
            let existed = self.t.relations()?.insert((from, k, to), ())?.is_some();
            self.t.relations_back()?.insert((to, k, from), ())?;
            if existed {
                counts.relations_duplicate += 1;
                dropped.push((r.from, r.kind, r.to));
                // The other customer had two relations that are now one.
                let other = if from == s { to } else { from };
                let n = &mut self.rollup_mut(other)?.relations;
                *n = n.saturating_sub(1);
            } else {
                counts.relations += 1;
            }
        }

        // Leads, complaints, surveys.
        counts.leads =
            self.move_owned::<Lead>(&LEAD_TABLES, p.merged, p.survivor, |r, c| r.customer = c)?;
        counts.complaints =
            self.move_owned::<Complaint>(&COMPLAINT_TABLES, p.merged, p.survivor, |r, c| {
                r.customer = c
            })?;
        counts.surveys =
            self.move_owned::<Survey>(&SURVEY_TABLES, p.merged, p.survivor, |r, c| r.customer = c)?;

        // Consents: one history in time order (a stable sort keeps the survivor's event first
        // at equal times, as recording it later would).
        {
            let mut t = self.t.consents()?;
            let theirs: Option<Consents> = get_record(&*t, m)?;
            if let Some(theirs) = theirs {
                let mut all: Consents = get_record(&*t, s)?.unwrap_or_default();
                counts.consent_events = theirs.0.len() as u32;
                all.0.extend(theirs.0);
                all.0.sort_by_key(|e| e.at);
                t.insert(s, codec::encode(&all).as_slice())?;
                t.remove(m)?;
            }
        }

        // Rollups: the survivor's rebuilt from its records, the merged one's gone.
        let rebuilt = self.rebuilt_rollup(p.survivor)?;
        *self.rollup_mut(s)? = rebuilt;
        self.drop_rollup(m)?;
        // Lineage of the values the survivor took over, and the merged customer's conflicts,
        // follow it: an operator can still see where a value came from and resolve them.
        self.move_integration_records(p.merged, p.survivor)?;
        // Source records queued incomplete for either customer are settled with the merged
        // one: they leave the queue if it is complete.
        self.settle_incomplete_merge(p.survivor, p.merged, &p.customer)?;

        // The redirect, with chains compressed: every id that led to the merged customer
        // (merged into it, or into one merged into it...) now leads to the survivor, so a
        // lookup is one hop.
        let mut earlier: Vec<u64> = Vec::new();
        {
            let merges = self.t.merges()?;
            let mut todo = vec![m];
            while let Some(x) = todo.pop() {
                for e in merges.range((x, 0)..=(x, u64::MAX))? {
                    let gone = e?.0.value().1;
                    earlier.push(gone);
                    todo.push(gone);
                }
            }
        }
        {
            let mut redirects = self.t.redirects()?;
            redirects.insert(m, s)?;
            for e in earlier {
                redirects.insert(e, s)?;
            }
        }

        let record = MergeRecord {
            survivor: p.survivor,
            merged: p.merged,
            at: p.at,
            by: p.by,
            counts,
            merged_customer: p.old,
            survivor_before: p.before,
            filled: p.filled,
            vehicles: vehicles.into_iter().map(VehicleId).collect(),
            dropped_relations: dropped,
        };
        self.t
            .merges()?
            .insert((s, m), codec::encode(&record).as_slice())?;
        Ok(record)
    }

    /// Moves one kind of customer-owned record from `from` to `to`; returns how many.
    fn move_owned<M: codec::Model>(
        &mut self,
        spec: &RecordTables,
        from: CustomerId,
        to: CustomerId,
        set: impl Fn(&mut M, CustomerId),
    ) -> Result<u32> {
        let mut links = self.t.customer_links(spec.by_customer)?;
        let ids: Vec<u64> = links
            .get(from.0)?
            .map(|v| v.map(|v| v.value()))
            .collect::<std::result::Result<_, _>>()?;
        let mut records = self.t.records(spec.records)?;
        for &id in &ids {
            let mut r: M = get_record(&*records, id)?
                .ok_or_else(|| Error::dangling("customer index", spec.entity, id))?;
            set(&mut r, to);
            records.insert(id, codec::encode(&r).as_slice())?;
            links.insert(to.0, id)?;
        }
        links.remove_all(from.0)?;
        Ok(ids.len() as u32)
    }

    /// The customer's rollup computed from scratch from its records: timeline, ownership
    /// histories, relations, leads, complaints and surveys. What incremental updates keep
    /// current, so the two must agree.
    pub(crate) fn rebuilt_rollup(&self, c: CustomerId) -> Result<Rollup> {
        rebuild_rollup(
            c,
            &*self.t.touchpoints()?,
            &*self.t.ownership()?,
            &*self.t.customer_vehicles()?,
            self.relations_of(c)?.len() as u32,
            [
                &*self.t.customer_links(LEAD_TABLES.by_customer)?,
                &*self.t.customer_links(COMPLAINT_TABLES.by_customer)?,
                &*self.t.customer_links(SURVEY_TABLES.by_customer)?,
            ],
        )
    }
}

/// A customer's rollup computed from scratch from its records (in a write or a read
/// transaction): timeline, ownership histories, the number of relations, and the links to its
/// leads, complaints and surveys (in that order). The merge and the integrity check compare it
/// with the stored, incrementally maintained rollup.
pub(crate) fn rebuild_rollup<L: ReadableMultimapTable<u64, u64>>(
    c: CustomerId,
    touchpoints: &impl ReadableTable<(u64, i64, u64), &'static [u8]>,
    owners: &impl ReadableTable<u64, &'static [u8]>,
    customer_vehicles: &impl ReadableMultimapTable<u64, u64>,
    relations: u32,
    links: [&L; 3],
) -> Result<Rollup> {
    let mut timeline: Vec<Touchpoint> = Vec::new();
    for entry in touchpoints.range((c.0, i64::MIN, 0)..=(c.0, i64::MAX, u64::MAX))? {
        timeline.push(decode_stored(entry?.1.value())?);
    }
    let mut r = Rollup::default().with_touchpoints(timeline.iter());
    for v in customer_vehicles.get(c.0)? {
        let v = v?.value();
        let h: OwnershipHistory = get_record(owners, v)?
            .ok_or_else(|| Error::dangling("customer vehicles", "vehicle", v))?;
        let mine: Vec<_> = h.0.iter().filter(|o| o.customer == c).collect();
        if mine.is_empty() {
            continue;
        }
        r.vehicles_total += 1;
        r.vehicles_current += mine.iter().filter(|o| o.to.is_none()).count() as u32;
        for o in mine {
            r.first_vehicle = Some(r.first_vehicle.map_or(o.from, |d| d.min(o.from)));
        }
    }
    r.relations = relations;
    let [leads, complaints, surveys] = links;
    for (table, count) in [
        (leads, &mut r.leads),
        (complaints, &mut r.complaints),
        (surveys, &mut r.surveys),
    ] {
        let mut n = 0;
        for v in table.get(c.0)? {
            v?;
            n += 1;
        }
        *count = n;
    }
    Ok(r)
}

/// A checked merge, ready to write.
struct Plan {
    survivor: CustomerId,
    merged: CustomerId,
    at: DateTime,
    by: String,
    /// The survivor before the merge.
    before: Customer,
    /// The merged customer.
    old: Customer,
    /// The survivor after the merge.
    customer: Customer,
    filled: Vec<String>,
    phones_added: u32,
}

/// The survivor's record after the merge: its values kept, its empty fields filled from the
/// merged customer, phones and interests unioned. Returns the fields filled and how many
/// phones were added.
fn combine(s: &Customer, m: &Customer) -> (Customer, Vec<String>, u32) {
    let mut out = s.clone();
    let mut filled: Vec<String> = Vec::new();
    fn fill<T: Clone>(
        field: &'static str,
        mine: &mut Option<T>,
        theirs: &Option<T>,
        filled: &mut Vec<String>,
    ) {
        if mine.is_none() && theirs.is_some() {
            *mine = theirs.clone();
            filled.push(field.to_string());
        }
    }
    match (&mut out.party, &m.party) {
        (Party::Person(a), Party::Person(b)) => {
            fill("gender", &mut a.gender, &b.gender, &mut filled);
            fill("birth_date", &mut a.birth_date, &b.birth_date, &mut filled);
            fill("occupation", &mut a.occupation, &b.occupation, &mut filled);
            fill("employer", &mut a.employer, &b.employer, &mut filled);
            fill(
                "national_id",
                &mut a.national_id,
                &b.national_id,
                &mut filled,
            );
            let before = a.interests.len();
            for i in &b.interests {
                if !a.interests.contains(i) {
                    a.interests.push(i.clone());
                }
            }
            if a.interests.len() > before {
                filled.push("interests".into());
            }
        }
        (Party::Organisation(a), Party::Organisation(b)) => {
            fill(
                "credit_code",
                &mut a.credit_code,
                &b.credit_code,
                &mut filled,
            );
            fill("industry", &mut a.industry, &b.industry, &mut filled);
        }
        _ => {}
    }
    // Location fields describe one place: fill one only where the fields both customers have
    // agree, so an address is never paired with another city.
    let agree = [
        (&s.province, &m.province),
        (&s.city, &m.city),
        (&s.address, &m.address),
    ]
    .iter()
    .all(|(a, b)| a.is_none() || b.is_none() || a == b);
    if agree {
        fill("province", &mut out.province, &m.province, &mut filled);
        fill("city", &mut out.city, &m.city, &mut filled);
        fill("address", &mut out.address, &m.address, &mut filled);
    }
    let mut added = 0;
    for p in &m.phones {
        if !out.phones.contains(p) {
            out.phones.push(p.clone());
            added += 1;
        }
    }
    if added > 0 {
        filled.push("phones".into());
    }
    fill("source", &mut out.source, &m.source, &mut filled);
    (out, filled, added)
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The live customer `id` stands for, as [`ReadTxn::resolve_customer`].
    pub fn resolve_customer(&self, id: CustomerId) -> Result<CustomerId> {
        self.tx().resolve_customer(id)
    }

    /// Merges customer `merged` into `survivor` and returns the record of the merge.
    ///
    /// Moves to the survivor: vehicles (every ownership period of the merged customer names
    /// the survivor; periods are kept as they were, so a vehicle that passed between the two
    /// shows two consecutive periods of the survivor), touchpoints (re-keyed under the
    /// survivor, same ids), relations in both directions (one between the two becomes
    /// nothing; one the survivor already has is not doubled), leads, complaints, surveys,
    /// and consents (the two histories combined in time order, so the latest event decides as
    /// before). The survivor's rollup is rebuilt from its records, so it is exactly what
    /// writing everything to the survivor from the start would have given.
    ///
    /// The survivor keeps its field values; its empty fields take the merged customer's
    /// (address fields only where the two agree on the location fields both have); phones
    /// and interests are unioned. National ID, credit code and phone indexes then point at
    /// the survivor. The merged customer is removed, its id becomes a redirect
    /// ([`ReadTxn::resolve_customer`]; `customer_360` and `find_customers` follow it), and
    /// the [`MergeRecord`] keeps its full record. Source records that wrote the merged
    /// customer find the survivor: the one on its record is re-pointed, older ones are
    /// followed through the redirect.
    ///
    /// Refused with [`Error::InvalidOperation`], before anything is written: the same customer
    /// twice ([`Refusal::MergeWithItself`]), an id already merged ([`Refusal::AlreadyMerged`]),
    /// a person with an organisation ([`Refusal::MergePersonWithOrganisation`]), two
    /// different national IDs or credit codes ([`Refusal::MergeDifferentKeys`]), and a merged
    /// customer with loyalty data (membership, postings, balances, tier record;
    /// [`Refusal::MergedHasLoyaltyData`]) — the append-only ledger names its customer on every posting, so
    /// it cannot move without rewriting history; merge the other way round (the member as
    /// survivor) instead. `by` must not be blank; `at` must be a plausible date.
    ///
    /// Touchpoints that move do not earn loyalty points afterwards (earning happens when a
    /// touchpoint is written); the survivor's next tier review sees its merged history.
    pub fn merge_customers(
        &mut self,
        survivor: CustomerId,
        merged: CustomerId,
        at: DateTime,
        by: &str,
    ) -> Result<MergeRecord> {
        self.tx().merge_customers(survivor, merged, at, by)
    }
}
