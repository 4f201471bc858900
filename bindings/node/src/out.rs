//! Core values as JavaScript values: camelCase keys, `Date`s (a date at UTC midnight, a naive
//! local date-time with its wall-clock fields as the UTC fields), money as a number of yuan,
//! enumerations by their snake_case names, ids as numbers.

use autocrm::api::{CustomerRecord, PartyKind};
use autocrm::audit::{AuditEntry, AuditHead, AuditVerification};
use autocrm::erasure::Erasure;
use autocrm::kpi::{GroupKey, KpiRow};
use autocrm::loyalty::{Balance, Cause, Membership, Posting, TierStatus, Wallet};
use autocrm::{
    Complaint, Customer, Customer360, Date, DateTime, Dealer, FieldLineage, Lead, LeadStatus,
    Money, Named, OwnedVehicle, Relation, SourceRef, Survey, TimelineCursor, TimelinePage,
    Touchpoint, Vehicle,
};

use crate::obj;
use crate::value::{ToV, V};

const DAY_MS: f64 = 86_400_000.0;

impl ToV for Date {
    fn to_v(&self) -> V {
        V::Date(f64::from(self.days()) * DAY_MS)
    }
}

impl ToV for DateTime {
    #[allow(clippy::cast_precision_loss)]
    fn to_v(&self) -> V {
        V::Date(self.seconds() as f64 * 1000.0)
    }
}

impl ToV for Money {
    #[allow(clippy::cast_precision_loss)]
    fn to_v(&self) -> V {
        V::Num(self.fen() as f64 / 100.0)
    }
}

/// An enumeration value's name.
pub fn name<T: Named>(v: T) -> V {
    V::Str(v.name().to_string())
}

/// An optional enumeration value's name.
pub fn opt_name<T: Named>(v: Option<T>) -> V {
    v.map_or(V::Null, name)
}

macro_rules! id_to_v {
    ($($t:ident),*) => {$(
        impl ToV for autocrm::$t {
            fn to_v(&self) -> V {
                self.0.to_v()
            }
        }
    )*};
}
id_to_v!(
    CustomerId,
    VehicleId,
    TouchpointId,
    DealerId,
    LeadId,
    ComplaintId,
    SurveyId
);

impl ToV for SourceRef {
    fn to_v(&self) -> V {
        obj! { "system" => self.system.to_v(), "recordId" => self.record_id.to_v() }
    }
}

/// A customer with its id.
pub fn customer(id: u64, c: &Customer) -> V {
    let r = CustomerRecord::from_customer(c);
    obj! {
        "id" => id.to_v(),
        "kind" => V::Str(r.kind.name().into()),
        "name" => r.name.to_v(),
        "phones" => r.phones.to_v(),
        "province" => r.province.to_v(),
        "city" => r.city.to_v(),
        "address" => r.address.to_v(),
        "source" => r.source.to_v(),
        "gender" => opt_name(r.gender),
        "birthDate" => r.birth_date.to_v(),
        "occupation" => r.occupation.to_v(),
        "employer" => r.employer.to_v(),
        "interests" => if r.kind == PartyKind::Person { r.interests.to_v() } else { V::Null },
        "nationalId" => r.national_id.to_v(),
        "creditCode" => r.credit_code.to_v(),
        "industry" => r.industry.to_v(),
    }
}

/// A dealer with its id.
pub fn dealer(id: u32, d: &Dealer) -> V {
    obj! {
        "id" => id.to_v(), "code" => d.code.to_v(), "name" => d.name.to_v(),
        "region" => d.region.to_v(), "province" => d.province.to_v(), "city" => d.city.to_v(),
        "kind" => name(d.kind),
    }
}

/// A vehicle with its id and ownership periods.
pub fn vehicle(id: u64, v: &Vehicle, owners: &autocrm::OwnershipHistory) -> V {
    let owners = V::Arr(
        owners
            .0
            .iter()
            .map(|o| obj! { "customer" => o.customer.to_v(), "since" => o.from.to_v(), "until" => o.to.to_v() })
            .collect(),
    );
    obj! {
        "id" => id.to_v(), "vin" => v.vin.to_v(), "plate" => v.plate.to_v(),
        "brand" => v.brand.to_v(), "model" => v.model.to_v(), "trim" => v.trim.to_v(),
        "purchaseDate" => v.purchase_date.to_v(), "invoiceDate" => v.invoice_date.to_v(),
        "registrationDate" => v.registration_date.to_v(),
        "firstServiceDate" => v.first_service_date.to_v(), "warrantyEnd" => v.warranty_end.to_v(),
        "insuranceExpiry" => v.insurance_expiry.to_v(), "inspectionDue" => v.inspection_due.to_v(),
        "usage" => name(v.usage), "sellingDealer" => v.selling_dealer.to_v(),
        "source" => v.source.to_v(), "owners" => owners,
    }
}

impl ToV for OwnedVehicle {
    fn to_v(&self) -> V {
        vehicle(self.id.0, &self.vehicle, &self.ownership)
    }
}

/// A touchpoint with its id.
pub fn touchpoint(id: u64, t: &Touchpoint) -> V {
    obj! {
        "id" => id.to_v(), "at" => t.at.to_v(), "customer" => t.customer.to_v(),
        "vehicle" => t.vehicle.to_v(), "dealer" => t.dealer.to_v(),
        "channel" => name(t.channel), "kind" => name(t.kind),
        "serviceKind" => opt_name(t.service_kind), "stage" => opt_name(t.stage),
        "sensitive" => t.sensitive.to_v(), "amount" => t.amount.to_v(),
        "partsAmount" => t.parts_amount.to_v(), "labourAmount" => t.labour_amount.to_v(),
        "mileageKm" => t.mileage_km.to_v(), "score" => t.score.to_v(),
        "outcome" => t.outcome.to_v(), "note" => t.note.to_v(), "source" => t.source.to_v(),
    }
}

impl ToV for TimelineCursor {
    fn to_v(&self) -> V {
        obj! { "at" => self.at.to_v(), "id" => self.id.to_v() }
    }
}

impl ToV for TimelinePage {
    fn to_v(&self) -> V {
        obj! {
            "items" => V::Arr(self.items.iter().map(|(id, t)| touchpoint(id.0, t)).collect()),
            "next" => self.next.to_v(),
        }
    }
}

/// A lead with its id.
pub fn lead(id: u64, l: &Lead) -> V {
    let lost = match &l.status {
        LeadStatus::Lost(r) => V::Str(r.clone()),
        _ => V::Null,
    };
    obj! {
        "id" => id.to_v(), "customer" => l.customer.to_v(), "origin" => name(l.origin),
        "model" => l.model.to_v(), "intent" => name(l.intent),
        "purchaseType" => name(l.purchase_type), "dealer" => l.dealer.to_v(),
        "received" => l.received.to_v(), "status" => V::Str(l.status.name().into()),
        "lostReason" => lost, "statusAt" => l.status_at.to_v(), "source" => l.source.to_v(),
    }
}

/// A complaint with its id.
pub fn complaint(id: u64, c: &Complaint) -> V {
    obj! {
        "id" => id.to_v(), "customer" => c.customer.to_v(), "vehicle" => c.vehicle.to_v(),
        "dealer" => c.dealer.to_v(), "category" => c.category.to_v(),
        "received" => c.received.to_v(), "status" => name(c.status),
        "firstResponse" => c.first_response.to_v(), "analysed" => c.analysed.to_v(),
        "resolved" => c.resolved.to_v(), "calledBack" => c.called_back.to_v(),
        "closed" => c.closed.to_v(), "note" => c.note.to_v(), "source" => c.source.to_v(),
    }
}

/// A survey with its id.
pub fn survey(id: u64, s: &Survey) -> V {
    let items = V::Map(
        s.items
            .iter()
            .map(|(f, score)| (f.name().to_string(), score.to_v()))
            .collect(),
    );
    obj! {
        "id" => id.to_v(), "customer" => s.customer.to_v(), "dealer" => s.dealer.to_v(),
        "kind" => name(s.kind), "date" => s.date.to_v(), "items" => items,
        "source" => s.source.to_v(),
    }
}

impl ToV for Relation {
    fn to_v(&self) -> V {
        obj! { "from" => self.from.to_v(), "kind" => name(self.kind), "to" => self.to.to_v() }
    }
}

impl ToV for FieldLineage {
    fn to_v(&self) -> V {
        obj! {
            "field" => V::Str(self.field.name().into()), "value" => self.value.to_v(),
            "source" => self.source.to_v(), "dealer" => self.dealer.to_v(),
            "at" => self.at.to_v(), "priority" => self.priority.to_v(),
            "verified" => self.verified.to_v(),
        }
    }
}

/// A customer's rollup (as in the 360° view).
pub fn rollup(r: &autocrm::Rollup) -> V {
    let kinds = autocrm::TouchpointKind::all();
    let counts = V::Map(
        kinds
            .iter()
            .map(|k| (k.name().to_string(), r.counts[k.index()].to_v()))
            .collect(),
    );
    let spend = V::Map(
        kinds
            .iter()
            .map(|k| (k.name().to_string(), r.spend[k.index()].to_v()))
            .collect(),
    );
    obj! {
        "counts" => counts, "spend" => spend,
        "partsSpend" => r.parts_spend.to_v(), "labourSpend" => r.labour_spend.to_v(),
        "serviceVisits" => r.service_dates.len().to_v(),
        "lastService" => r.service_dates.last().copied().to_v(),
        "firstPurchase" => r.first_purchase.to_v(), "lastPurchase" => r.last_purchase.to_v(),
        "firstTouch" => r.first_touch.to_v(), "lastTouch" => r.last_touch.to_v(),
        "maxMileageKm" => r.max_mileage_km.to_v(),
        "vehiclesCurrent" => r.vehicles_current.to_v(), "vehiclesTotal" => r.vehicles_total.to_v(),
    }
}

impl ToV for Customer360 {
    fn to_v(&self) -> V {
        obj! {
            "id" => self.id.to_v(),
            "customer" => customer(self.id.0, &self.customer),
            "rollup" => rollup(&self.rollup),
            "currentVehicles" => self.current_vehicles.to_v(),
            "pastVehicles" => self.past_vehicles.to_v(),
            "relations" => self.relations.to_v(),
            "leads" => V::Arr(self.leads.iter().map(|(i, l)| lead(i.0, l)).collect()),
            "complaints" => V::Arr(self.complaints.iter().map(|(i, c)| complaint(i.0, c)).collect()),
            "surveys" => V::Arr(self.surveys.iter().map(|(i, s)| survey(i.0, s)).collect()),
            "timeline" => self.timeline.to_v(),
            "lineage" => self.lineage.to_v(),
            "masked" => V::Arr(self.masked.iter().map(|m| V::Str(crate::camel(m))).collect()),
        }
    }
}

/// A wallet as JS names it: `"brand"` or the dealer id.
pub fn wallet(w: Wallet) -> V {
    match w {
        Wallet::Brand => V::Str("brand".into()),
        Wallet::Dealer(d) => d.to_v(),
    }
}

impl ToV for Balance {
    fn to_v(&self) -> V {
        obj! { "points" => self.points.to_v(), "owed" => self.owed.to_v() }
    }
}

impl ToV for Membership {
    fn to_v(&self) -> V {
        obj! {
            "enrolled" => self.enrolled.to_v(), "source" => self.source.to_v(),
            "dealerClubs" => V::Arr(self.dealer_clubs.iter().map(|(d, on)| obj! { "dealer" => d.to_v(), "since" => on.to_v() }).collect()),
        }
    }
}

/// A posting with its id.
pub fn posting(id: u64, p: &Posting) -> V {
    let cause = match &p.cause {
        Cause::Touchpoint { touchpoint, rule } => {
            obj! { "kind" => "touchpoint".to_v(), "touchpoint" => touchpoint.to_v(), "rule" => rule.to_v() }
        }
        Cause::Operator { operator, reason } => {
            obj! { "kind" => "operator".to_v(), "operator" => operator.to_v(), "reason" => reason.to_v() }
        }
        Cause::Redemption { item } => obj! { "kind" => "redemption".to_v(), "item" => item.to_v() },
        Cause::Expiry { as_of } => obj! { "kind" => "expiry".to_v(), "asOf" => as_of.to_v() },
        other => {
            obj! { "kind" => V::Str(format!("{other:?}").split([' ', '{', '(']).next().unwrap_or("other").to_lowercase()) }
        }
    };
    obj! {
        "id" => id.to_v(), "customer" => p.customer.to_v(), "wallet" => wallet(p.wallet),
        "kind" => name(p.kind), "points" => p.points.to_v(), "at" => p.at.to_v(),
        "key" => p.key.to_v(), "cause" => cause, "dealer" => p.dealer.to_v(),
        "expires" => p.expires.to_v(), "shortfall" => p.shortfall.to_v(),
    }
}

impl ToV for TierStatus {
    fn to_v(&self) -> V {
        obj! {
            "tier" => V::Str(self.tier.name().into()),
            "qualified" => V::Str(self.qualified.name().into()),
            "byGrace" => self.by_grace.to_v(),
            "floorTier" => self.floor.as_ref().map_or(V::Null, |f| V::Str(f.tier.name().into())),
            "value" => obj! {
                "vehicles" => self.value.vehicles.to_v(),
                "serviceVisits" => self.value.service_visits.to_v(),
                "totalSpend" => self.value.total_spend.to_v(),
                "singleTicket" => self.value.single_ticket.to_v(),
                "points" => self.value.points.to_v(),
            },
        }
    }
}

impl ToV for KpiRow {
    fn to_v(&self) -> V {
        let dealer = match &self.key {
            GroupKey::Dealer(d) => d.to_v(),
            _ => V::Null,
        };
        obj! {
            "kpi" => name(self.kpi), "label" => self.label.to_v(), "dealer" => dealer,
            "from" => self.period.from.to_v(), "to" => self.period.to.to_v(),
            "numerator" => self.numerator.to_v(), "denominator" => self.denominator.to_v(),
            "value" => self.value.to_v(),
        }
    }
}

impl ToV for Erasure {
    fn to_v(&self) -> V {
        let c = &self.counts;
        obj! {
            "customer" => self.customer.to_v(), "merged" => self.merged.to_v(),
            "at" => self.at.to_v(), "by" => self.by.to_v(), "reason" => self.reason.to_v(),
            "hadValidInfo" => self.had_valid_info.to_v(),
            "counts" => obj! {
                "touchpointNotes" => c.touchpoint_notes.to_v(), "complaintNotes" => c.complaint_notes.to_v(),
                "lineageEntries" => c.lineage_entries.to_v(), "conflicts" => c.conflicts.to_v(),
                "feedbackEntries" => c.feedback_entries.to_v(), "mergeRecords" => c.merge_records.to_v(),
            },
        }
    }
}

impl ToV for AuditHead {
    fn to_v(&self) -> V {
        obj! { "seq" => self.seq.to_v(), "hash" => self.hex().to_v() }
    }
}

impl ToV for AuditVerification {
    fn to_v(&self) -> V {
        let problem = self.problem.as_ref().map_or(V::Null, |p| {
            obj! { "seq" => p.seq.to_v(), "kind" => V::Str(p.kind.name().into()), "what" => p.what.to_v() }
        });
        obj! {
            "ok" => self.problem.is_none().to_v(), "entries" => self.entries.to_v(),
            "head" => self.head.to_v(), "problem" => problem,
        }
    }
}

impl ToV for AuditEntry {
    fn to_v(&self) -> V {
        obj! {
            "seq" => self.seq.to_v(), "at" => self.at.to_v(), "actor" => self.actor.to_v(),
            "scope" => self.scope.to_v(), "action" => V::Str(self.action.name().into()),
            "what" => self.what.to_v(), "customers" => self.customers.to_v(),
            "purpose" => self.purpose.to_v(),
        }
    }
}

impl ToV for autocrm::ImportReport {
    fn to_v(&self) -> V {
        obj! {
            "file" => self.file.to_v(), "kind" => V::Str(self.kind.name().into()),
            "encoding" => self.encoding.to_v(), "rows" => self.rows.to_v(),
            "created" => self.created.to_v(), "updated" => self.updated.to_v(),
            "unchanged" => self.unchanged.to_v(), "rejected" => self.rejected.to_v(),
            "rejectedByCode" => V::Map(self.rejected_by_code.iter().map(|(k, n)| (k.clone(), n.to_v())).collect()),
            "conflicts" => self.conflicts.to_v(), "incomplete" => self.incomplete.to_v(),
        }
    }
}

impl ToV for autocrm::ConsentEvent {
    fn to_v(&self) -> V {
        obj! {
            "channel" => name(self.channel), "granted" => self.granted.to_v(),
            "at" => self.at.to_v(), "source" => self.source.to_v(),
        }
    }
}

impl ToV for autocrm::integration::Conflict {
    fn to_v(&self) -> V {
        use autocrm::integration::ConflictStatus;
        let (status, by, at) = match &self.status {
            ConflictStatus::Open => ("open", V::Null, V::Null),
            ConflictStatus::Accepted { by, at } => ("accepted", by.to_v(), at.to_v()),
            ConflictStatus::Rejected { by, at } => ("rejected", by.to_v(), at.to_v()),
        };
        obj! {
            "id" => self.id.0.to_v(), "entity" => V::Str(self.entity.name().into()),
            "record" => self.record.to_v(), "field" => V::Str(self.field.name().into()),
            "current" => self.current.as_ref().map(ToString::to_string).to_v(),
            "offered" => self.offered.to_string().to_v(),
            "source" => self.received.source.to_v(), "dealer" => self.received.dealer.to_v(),
            "received" => self.received.at.to_v(), "priority" => self.priority.to_v(),
            "verified" => self.verified.to_v(), "reason" => V::Str(self.reason.code().into()),
            "status" => V::Str(status.into()), "resolvedBy" => by, "resolvedAt" => at,
        }
    }
}

impl ToV for autocrm::integration::FeedbackEntry {
    fn to_v(&self) -> V {
        obj! {
            "id" => self.id.0.to_v(), "dealer" => self.dealer.to_v(),
            "kind" => V::Str(self.kind.name().into()), "source" => self.source.to_v(),
            "line" => self.line.to_v(), "raw" => self.raw.to_v(), "code" => self.code.to_v(),
            "field" => self.field.to_v(), "message" => self.message.to_v(), "hint" => self.hint.to_v(),
            "received" => self.received.to_v(), "firstRejected" => self.first_rejected.to_v(),
        }
    }
}

impl ToV for autocrm::CareAction {
    fn to_v(&self) -> V {
        obj! {
            "kind" => name(self.kind), "customer" => self.customer.to_v(),
            "vehicle" => self.vehicle.to_v(), "lead" => self.lead.to_v(),
            "complaint" => self.complaint.to_v(), "due" => self.due.to_v(),
            "basis" => self.basis.to_v(), "dealer" => self.dealer.to_v(),
            "channel" => name(self.channel), "marketing" => self.marketing.to_v(),
            "detail" => self.detail.to_v(),
        }
    }
}

impl ToV for autocrm::DuplicateCandidate {
    fn to_v(&self) -> V {
        obj! {
            "customer" => self.customer.to_v(), "other" => self.other.to_v(),
            "score" => self.score.to_v(),
            "reasons" => V::Arr(self.reasons.iter().map(|r| V::Str(r.name().into())).collect()),
        }
    }
}

impl ToV for autocrm::MergeCounts {
    fn to_v(&self) -> V {
        obj! {
            "vehicles" => self.vehicles.to_v(), "touchpoints" => self.touchpoints.to_v(),
            "relations" => self.relations.to_v(), "relationsBetween" => self.relations_between.to_v(),
            "relationsDuplicate" => self.relations_duplicate.to_v(), "leads" => self.leads.to_v(),
            "complaints" => self.complaints.to_v(), "surveys" => self.surveys.to_v(),
            "consentEvents" => self.consent_events.to_v(), "phonesAdded" => self.phones_added.to_v(),
        }
    }
}

impl ToV for autocrm::MergeRecord {
    fn to_v(&self) -> V {
        // The customers' pre-merge records are shown as the unscoped reads show a customer:
        // only a steward (`manage_data`) gets here, and core hands them over unmasked.
        obj! {
            "survivor" => self.survivor.to_v(), "merged" => self.merged.to_v(),
            "at" => self.at.to_v(), "by" => self.by.to_v(), "counts" => self.counts.to_v(),
            "mergedCustomer" => customer(self.merged.0, &self.merged_customer),
            "survivorBefore" => customer(self.survivor.0, &self.survivor_before),
            "filled" => self.filled.to_v(), "vehicles" => self.vehicles.to_v(),
            "droppedRelations" => V::Arr(self.dropped_relations.iter().map(|(f, k, t)| obj! {
                "from" => f.to_v(), "kind" => name(*k), "to" => t.to_v(),
            }).collect()),
        }
    }
}

fn counts(m: &std::collections::BTreeMap<String, u64>) -> V {
    V::Map(m.iter().map(|(k, n)| (k.clone(), n.to_v())).collect())
}

impl ToV for autocrm::integration::QualityRow {
    fn to_v(&self) -> V {
        obj! {
            "dealer" => self.dealer.to_v(), "label" => self.label.to_v(),
            "customers" => self.customers.to_v(), "customersSold" => self.customers_sold.to_v(),
            "validInfo" => self.valid_info.to_v(), "validInfoRatio" => self.valid_info_ratio.to_v(),
            "rejections" => counts(&self.rejections), "queuedByReason" => counts(&self.queued_by_reason),
            "openConflicts" => self.open_conflicts.to_v(), "queueSize" => self.queue_size.to_v(),
            "oldestQueuedDays" => self.oldest_queued_days.to_v(),
        }
    }
}

impl ToV for autocrm::integration::QualityReport {
    fn to_v(&self) -> V {
        obj! {
            "asOf" => self.as_of.to_v(), "rows" => self.rows.to_v(), "network" => self.network.to_v(),
        }
    }
}

/// A complaint escalation.
pub fn escalation(e: &autocrm::Escalation) -> V {
    obj! {
        "customer" => e.customer.to_v(), "category" => e.category.to_v(),
        "month" => e.month.to_v(), "quarter" => e.quarter.to_v(),
        "dealers" => e.dealers.to_v(), "latest" => e.latest.to_v(),
    }
}
