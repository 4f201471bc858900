//! The stable snake_case names of the domain's enumerations: how import files, segment rules
//! and every binding spell a touchpoint kind, a channel, a lead intent... One table per enum,
//! here, so they agree by construction instead of by tests.

use crate::access::Permission;
use crate::audit::AuditAction;
use crate::care::CareKind;
use crate::complaint::ComplaintStatus;
use crate::consent::ConsentChannel;
use crate::customer::{Gender, RelationKind};
use crate::dealer::DealerKind;
use crate::kpi::{Dimension, Kpi};
use crate::lead::{Intent, LeadSource, PurchaseType};
use crate::loyalty::{AmountField, PostingKind, Tier, WalletRule};
use crate::survey::{Factor, SurveyKind};
use crate::touchpoint::{Channel, LifecycleStage, ServiceKind, TouchpointKind};
use crate::vehicle::Usage;

/// An enumeration with a stable name for every value.
pub trait Named: Copy + PartialEq + 'static {
    /// What the enumeration is called in messages, e.g. `"touchpoint kind"`.
    const WHAT: &'static str;

    /// Every value, in declaration order.
    fn all() -> &'static [Self];

    /// The value's stable name, e.g. `"service_visit"`.
    fn name(self) -> &'static str;

    /// The value named `name` exactly.
    fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.name() == name)
    }

    /// Every name, in declaration order.
    fn names() -> Vec<&'static str> {
        Self::all().iter().map(|v| v.name()).collect()
    }
}

macro_rules! named {
    ($t:ident, $what:expr, { $($v:ident => $n:expr),* $(,)? }) => {
        impl $t {
            /// Every value's stable name, in declaration order (see [`Named`]); a constant, for
            /// tables that must be constants (the rule language's value lists).
            pub const NAMES: &'static [&'static str] = &[$($n),*];
        }

        impl Named for $t {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] {
                &[$($t::$v),*]
            }
            fn name(self) -> &'static str {
                match self {
                    $($t::$v => $n,)*
                }
            }
        }
    };
    // Enumerations whose names their own module defines (`ALL` and an inherent `name`).
    ($t:ident, $what:expr, own) => {
        impl Named for $t {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] {
                &$t::ALL
            }
            fn name(self) -> &'static str {
                $t::name(self)
            }
        }
    };
}

named!(Permission, "permission", {
    ReadCustomers => "read_customers", SeeNationalId => "see_national_id",
    SeePhone => "see_phone", SeeAddress => "see_address", SeeBirthDate => "see_birth_date",
    SeeLineage => "see_lineage", WriteTouchpoints => "write_touchpoints",
    WriteConsents => "write_consents", Redeem => "redeem", Analytics => "analytics",
    Export => "export", Erase => "erase", ReadAudit => "read_audit",
    ManageRoles => "manage_roles",
    ManageData => "manage_data", Refer => "refer",
});
named!(Gender, "gender", { Male => "male", Female => "female" });
named!(DealerKind, "dealer kind", { FourS => "four_s", ServiceStation => "service_station" });
named!(Usage, "usage", { Private => "private", Fleet => "fleet", Taxi => "taxi", Rental => "rental" });
named!(Channel, "channel", {
    PhoneIn => "phone_in", PhoneOut => "phone_out", Sms => "sms", Email => "email", Web => "web",
    App => "app", WeChat => "wechat", Showroom => "showroom", Event => "event", Mail => "mail",
});
named!(TouchpointKind, "touchpoint kind", {
    Enquiry => "enquiry", Lead => "lead", TestDrive => "test_drive", Order => "order",
    Delivery => "delivery", Purchase => "purchase", ServiceVisit => "service_visit",
    Callback => "callback", Survey => "survey", Complaint => "complaint", Rescue => "rescue",
    Referral => "referral", ClubActivity => "club_activity", ForumPost => "forum_post",
});
named!(ServiceKind, "service kind", {
    FirstService => "first_service", Maintenance => "maintenance", Repair => "repair",
    WarrantyRepair => "warranty_repair", BodyAndPaint => "body_and_paint",
});
named!(LifecycleStage, "lifecycle stage", {
    Prospect => "prospect", New => "new", BeforeFirstService => "before_first_service",
    InWarranty => "in_warranty", OutOfWarranty => "out_of_warranty", FinalYear => "final_year",
    Gone => "gone",
});
named!(RelationKind, "relation kind", {
    Relative => "relative", Contact => "contact", ReferredBy => "referred_by",
    DecisionMaker => "decision_maker", Purchaser => "purchaser", Driver => "driver",
});
named!(LeadSource, "lead origin", {
    CallCentre => "call_centre", Web => "web", AutoShow => "auto_show", WalkIn => "walk_in",
    Referral => "referral",
});
named!(Intent, "intent", { H => "H", A => "A", B => "B", C => "C" });
named!(PurchaseType, "purchase type", {
    First => "first", SameBrandReplacement => "same_brand_replacement",
    OtherBrandReplacement => "other_brand_replacement", Additional => "additional",
});
named!(SurveyKind, "survey kind", { Sales => "sales", Service => "service" });
named!(Factor, "survey factor", {
    Friendliness => "friendliness", Initiative => "initiative", Supervision => "supervision",
    RepairProcess => "repair_process", ProductIssues => "product_issues",
    ServiceQuality => "service_quality", VehiclePickUp => "vehicle_pick_up",
});
named!(PostingKind, "posting kind", {
    Earn => "earn", Adjust => "adjust", Redeem => "redeem", Expire => "expire",
    Reverse => "reverse", Recover => "recover",
});
named!(AmountField, "amount field", { Total => "total", Parts => "parts", Labour => "labour" });
named!(WalletRule, "wallet rule", { Brand => "brand", IssuingDealer => "issuing_dealer" });
named!(ComplaintStatus, "complaint status", own);
named!(ConsentChannel, "consent channel", own);
named!(Tier, "tier", own);
named!(Kpi, "KPI", own);
named!(Dimension, "dimension", own);
named!(CareKind, "care kind", own);
named!(AuditAction, "audit action", own);

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct<T: Named + std::fmt::Debug>() {
        let names = T::names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{} names repeat", T::WHAT);
        for v in T::all() {
            assert_eq!(T::from_name(v.name()), Some(*v));
        }
    }

    #[test]
    fn names_are_distinct_and_round_trip() {
        distinct::<Gender>();
        distinct::<Channel>();
        distinct::<TouchpointKind>();
        distinct::<ServiceKind>();
        distinct::<LifecycleStage>();
        distinct::<LeadSource>();
        distinct::<Intent>();
        distinct::<PurchaseType>();
        distinct::<Factor>();
        distinct::<PostingKind>();
        distinct::<AuditAction>();
        assert_eq!(TouchpointKind::all(), &TouchpointKind::ALL[..]);
        assert_eq!(TouchpointKind::NAMES, TouchpointKind::names());
    }
}
