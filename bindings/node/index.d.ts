// Types of the `autocrm` Node package (hand-written; index.js is the implementation). The
// native module index.js wraps has its own declarations, native.d.ts, GENERATED from the
// #[napi] items in src/ (`npm run native-types`; scripts/test-node.sh fails when it drifts).
// Dates: a calendar date is a Date at UTC midnight; a date-time is autocrm's naive local time
// (the database's clock, +08:00 by default) carried in the Date's UTC fields. ISO strings
// ("2025-06-01", "2025-06-01T09:30:00") are accepted wherever a Date is.

/// <reference types="node" />

export type DateLike = Date | string;
/** Yuan: a number with at most 2 decimals, or a decimal string ("199.90"). */
export type MoneyLike = number | string;
/** `"brand"` or a dealer id (that dealer's club wallet). */
export type WalletLike = 'brand' | number;
export type SourceLike = [system: string, recordId: string] | { system: string; recordId: string };

export interface OpenOptions {
  /** fsync on commit (default true). */
  durable?: boolean;
  /** Never write the file (writes fail with ReadOnlyError). */
  readOnly?: boolean;
  cacheBytes?: number;
  /** The clock's offset for "now" (default "+08:00"). */
  utcOffset?: string;
}

export interface CustomerInput {
  kind?: 'person' | 'organisation';
  name: string;
  phones?: string[];
  province?: string; city?: string; address?: string;
  source?: SourceLike;
  gender?: 'male' | 'female'; birthDate?: DateLike; occupation?: string; employer?: string;
  interests?: string[]; nationalId?: string;
  creditCode?: string; industry?: string;
}
export interface Customer {
  id: number; kind: 'person' | 'organisation'; name: string; phones: string[];
  province: string | null; city: string | null; address: string | null;
  source: { system: string; recordId: string } | null;
  gender: string | null; birthDate: Date | null; occupation: string | null; employer: string | null;
  interests: string[] | null; nationalId: string | null; creditCode: string | null; industry: string | null;
}
export interface DealerInput { code: string; name: string; region: string; province: string; city: string; kind?: 'four_s' | 'service_station' }
export interface Dealer extends Required<DealerInput> { id: number }
export interface VehicleInput {
  vin: string; brand: string; model: string; plate?: string; trim?: string;
  purchaseDate?: DateLike; invoiceDate?: DateLike; registrationDate?: DateLike; firstServiceDate?: DateLike;
  warrantyEnd?: DateLike; insuranceExpiry?: DateLike; inspectionDue?: DateLike;
  usage?: 'private' | 'fleet' | 'taxi' | 'rental'; sellingDealer?: number; source?: SourceLike;
  /** First owner (customer id); `since` defaults to `purchaseDate`. */
  owner?: number; since?: DateLike;
}
export interface Vehicle {
  id: number; vin: string; plate: string | null; brand: string; model: string; trim: string | null;
  purchaseDate: Date | null; invoiceDate: Date | null; registrationDate: Date | null;
  firstServiceDate: Date | null; warrantyEnd: Date | null; insuranceExpiry: Date | null;
  inspectionDue: Date | null; usage: string; sellingDealer: number | null;
  source: { system: string; recordId: string } | null;
  owners: { customer: number; since: Date; until: Date | null }[];
}
export interface TouchpointInput {
  at: DateLike; customer: number; channel: string; kind: string;
  vehicle?: number; dealer?: number; serviceKind?: string; stage?: string; sensitive?: boolean;
  amount?: MoneyLike; partsAmount?: MoneyLike; labourAmount?: MoneyLike; mileageKm?: number;
  score?: number; outcome?: string; note?: string; source?: SourceLike;
}
export interface Touchpoint {
  id: number; at: Date; customer: number; vehicle: number | null; dealer: number | null;
  channel: string; kind: string; serviceKind: string | null; stage: string | null; sensitive: boolean;
  amount: number | null; partsAmount: number | null; labourAmount: number | null;
  mileageKm: number | null; score: number | null; outcome: string | null; note: string | null;
  source: { system: string; recordId: string } | null;
}
export interface TimelineCursor { at: Date; id: number }
export interface TimelinePage { items: Touchpoint[]; next: TimelineCursor | null }
export interface LeadInput {
  customer: number; origin: string; model: string; intent: 'H' | 'A' | 'B' | 'C'; received: DateLike;
  purchaseType?: string; dealer?: number; status?: string; lostReason?: string; statusAt?: DateLike; source?: SourceLike;
}
export interface ComplaintInput {
  customer: number; category: string; received: DateLike; vehicle?: number; dealer?: number; status?: string;
  firstResponse?: DateLike; analysed?: DateLike; resolved?: DateLike; calledBack?: DateLike; closed?: DateLike;
  note?: string; source?: SourceLike;
}
export interface SurveyInput { customer: number; kind: 'sales' | 'service'; date: DateLike; items: Record<string, number>; dealer?: number; source?: SourceLike }
export interface ConsentInput { channel: string; granted: boolean; at: DateLike; source: string }
export interface RedemptionInput { customer: number; points: number; at: DateLike; item: string; key: string; wallet?: WalletLike; dealer?: number }
export interface AdjustmentInput { customer: number; points: number; at: DateLike; operator: string; reason: string; key: string; wallet?: WalletLike }
export interface ReversalInput { credit: number; at: DateLike; operator: string; reason: string; key: string }
export interface ContactInput { phones?: string[]; province?: string; city?: string; address?: string }

/** A customer's rollup: touchpoint counts and spend per kind, service and purchase dates, vehicles. */
export interface Rollup {
  counts: Record<string, number>; spend: Record<string, number>; partsSpend: number; labourSpend: number;
  serviceVisits: number; lastService: Date | null; firstPurchase: Date | null; lastPurchase: Date | null;
  firstTouch: Date | null; lastTouch: Date | null; maxMileageKm: number | null;
  vehiclesCurrent: number; vehiclesTotal: number;
}

export interface Customer360 {
  id: number;
  customer: Customer;
  rollup: Rollup;
  currentVehicles: Vehicle[]; pastVehicles: Vehicle[];
  relations: { from: number; kind: string; to: number }[];
  leads: Record<string, unknown>[]; complaints: Record<string, unknown>[]; surveys: Record<string, unknown>[];
  timeline: TimelinePage;
  lineage: { field: string; value: string; source: { system: string; recordId: string }; dealer: number | null; at: Date; priority: number; verified: boolean }[];
  /** Profile fields masked for the scope that asked (camelCase field names). */
  masked: string[];
}
export interface Balance { points: number; owed: number }
export interface Posting {
  id: number; customer: number; wallet: WalletLike; kind: string; points: number; at: Date; key: string;
  cause: { kind: string; [k: string]: unknown }; dealer: number | null; expires: Date | null; shortfall: number;
}
export interface Membership { enrolled: Date; source: string; dealerClubs: { dealer: number; since: Date }[] }
export interface TierStatus { tier: string; qualified: string; byGrace: boolean; /** The operator floor's tier in force, if any (`setTierFloor`). */ floorTier: string | null; value: { vehicles: number; serviceVisits: number; totalSpend: number; singleTicket: number; points: number } }
export interface KpiRow { kpi: string; label: string; dealer: number | null; from: Date; to: Date; numerator: number; denominator: number; value: number | null }
export interface Members { size: number; ids: number[] }
export interface Erasure { customer: number; merged: number[]; at: Date; by: string; reason: string; /** Whether the customer counted as valid information before the erasure (KPIs keep counting it). */ hadValidInfo: boolean; counts: Record<string, number> }
export interface AuditHead { seq: number; hash: string }
export interface AuditVerification { ok: boolean; entries: number; head: AuditHead; problem: { seq: number; kind: string; what: string } | null }
export interface AuditEntry { seq: number; at: Date; actor: string; scope: string; action: string; what: string; customers: number[]; purpose: string | null }
export interface LakeFile { path: string; partition: string | null; rows: number; bytes: number }
export interface LakeTable { name: string; partitionedBy: string | null; rows: number; bytes: number; files: LakeFile[] }
/** What `exportLake` wrote: the manifest's content and timing (docs/export.md). */
export interface LakeReport { dir: string; snapshotAt: Date; asOf: Date; scope: string | null; sequence: number | null; rows: number; bytes: number; files: number; seconds: number; rowsPerSecond: number; tables: LakeTable[] }
/** `asOf`: the day the home_dealers table is computed for (default today). */
/**
 * `incremental: true` appends what the change feed says changed since the folder's export
 * (`part-<position>` files and `_deletions`; unscoped only) instead of writing a snapshot.
 */
export interface LakeOptions { asOf?: DateLike; threads?: number; incremental?: boolean }
export interface ImportReport { file: string; kind: string; encoding: string; rows: number; created: number; updated: number; unchanged: number; rejected: number; rejectedByCode: Record<string, number>; conflicts: number; incomplete: number }
export interface ImportOptions { progress?: (p: { rows: number; bytes: number; totalBytes: number | null }) => void; kind?: 'customer' | 'vehicle' | 'touchpoint' | 'lead'; receivedAt?: DateLike; format?: 'csv' | 'jsonl'; encoding?: 'auto' | 'utf-8' | 'gbk'; batchSize?: number; sourceSystem?: string }
export interface GenerateOptions { customers?: number; seed?: number; dealers?: number; asOf?: DateLike; years?: number; batch?: number }
export type TableName = 'customers' | 'vehicles' | 'ownership' | 'touchpoints' | 'postings' | 'leads' | 'complaints' | 'surveys';
export interface TableOptions { customer?: number; threads?: number }
/** "2025", "2025-H1", "2025-Q3" or "2025-07". */
export type Period = string;
export type Dimension = 'network' | 'dealer' | 'region' | 'province' | 'model';

export interface Reads {
  /** Changes committed after change id `after` (default 0), at most `limit` (default 1000). Pass `next` as the following `after`. */
  changes(after?: number, limit?: number): ChangePage;
  /** The id of the latest change (0: none yet). */
  lastChange(): number;
  changeFeedEnabled(): boolean;
  /** `'until_consumed'`, `'forever'` or a number of days. */
  changeRetention(): 'until_consumed' | 'forever' | number;
  consumers(): Consumer[];
  /** How far `name` has read (NotFoundError if it is not registered). */
  consumerPosition(name: string): number;
  customer(id: number): Customer;
  dealer(id: number): Dealer;
  dealerByCode(code: string): number | null;
  dealers(): Dealer[];
  vehicle(id: number): Vehicle;
  vehicleByVin(vin: string): number | null;
  vehicleByPlate(plate: string): number | null;
  vehiclesOf(customer: number): Vehicle[];
  touchpoint(id: number): Touchpoint;
  /** Any key a call centre has: id, national ID, credit code, VIN, mobile, plate. */
  findCustomers(key: string): number[];
  customersByPhone(phone: string): number[];
  customer360(id: number, timelineLimit?: number): Customer360;
  timeline(customer: number, limit?: number, before?: TimelineCursor | null): TimelinePage;
  customerCount(): number;
  balance(customer: number, wallet?: WalletLike): Balance;
  walletsOf(customer: number): ({ wallet: WalletLike } & Balance)[];
  postingsOf(customer: number): Posting[];
  postingByKey(key: string): Posting | null;
  membership(customer: number): Membership | null;
  tierStatus(customer: number, asOf: DateLike): TierStatus;
  verifyAudit(): AuditVerification;
  auditLog(customer?: number | null, after?: number | null, limit?: number): AuditEntry[];
  lead(id: number): Record<string, unknown>;
  complaint(id: number): Record<string, unknown>;
  survey(id: number): Record<string, unknown>;
  consents(customer: number): { channel: string; granted: boolean; at: Date; source: string }[];
  /** Where each profile field came from (source, record, time, priority). */
  lineage(customer: number): Customer360['lineage'];
  /** Offers not applied (open ones only unless `openOnly` is false). */
  conflicts(openOnly?: boolean): Conflict[];
  /** Rejected records waiting in `dealer`'s feedback queue, or without one in the unassigned queue (records no dealer sent); `feedbackAll()` lists every queue. */
  feedback(dealer?: number): FeedbackEntry[];
  /** Every queued feedback entry, by dealer (the unassigned queue first), then oldest first. */
  feedbackAll(): FeedbackEntry[];
  segmentNames(): string[];
  /** The loyalty ledger's invariants checked. */
  verifyLedger(): { ok: boolean; wallets: number; postings: number; lots: number; problems: string[] };
  /** A saved segment's versions, oldest first (the last applies); `null` if none. */
  segment(name: string): SegmentVersion[] | null;
  /** The members stored by `materialiseSegment` for `asOf`; `null` if not materialised. */
  materialised(name: string, asOf: DateLike): Members | null;
  /** Who entered and left between two materialised dates (`invalid_operation` otherwise). */
  segmentDiff(name: string, from: DateLike, to: DateLike): { entered: Members; left: Members };
  complaintEscalations(asOf: DateLike, params?: EscalationParams): Escalation[];
  /** Care actions due on days from ≤ d < to (core's default rules), off the JS thread. */
  dueActions(from: DateLike, to: DateLike, dealer?: number): Promise<CareAction[]>;
  /** The registered source systems (core's defaults while none is stored). */
  sources(): SourceSystem[];
  /** Where each field of a vehicle came from. */
  lineageOfVehicle(vehicle: number): Customer360['lineage'];
  conflict(id: number): Conflict;
  /** Every conflict (open and resolved) about a customer and the vehicles it owns or owned. */
  conflictsOf(customer: number): Conflict[];
  openConflictCount(): number;
  /** The queued feedback entry of a source record; `null` if none. */
  feedbackEntry(kind: RecordKind, source: SourceLike): FeedbackEntry | null;
  /** Lifetime rejection counts by sending dealer (`null`: unassigned) and reason code. */
  rejectionCounts(): { dealer: number | null; code: string; count: number }[];
  /** Every pair of customers that may be one, scoring at least `minScore` (default 70), off the JS thread. */
  duplicateCandidates(minScore?: number): Promise<DuplicateCandidate[]>;
  /** One customer's duplicate candidates (any score), highest first. */
  duplicatesOf(customer: number): DuplicateCandidate[];
  /** The live customer an id stands for: itself, or the customer it was merged into. */
  resolveCustomer(id: number): number;
  /** Every merge whose data ended in `survivor`, oldest first. */
  mergesOf(survivor: number): MergeRecord[];
  /** The stored club configuration in `setLoyaltyConfig`'s shape; `null` while none is stored. */
  loyaltyConfig(): LoyaltyConfig | null;
  /** Points of a wallet spendable on `on` (lots not yet expired). */
  spendable(customer: number, on: DateLike, wallet?: WalletLike): number;
  posting(id: number): Posting;
  /** Tier changes recorded by reviews, oldest first. */
  tierHistory(customer: number): TierChange[];
  benefits(customer: number, asOf: DateLike): Benefits;
  /** Dealer-to-dealer settlement for redemptions on days from ≤ d < to. */
  settlement(from: DateLike, to: DateLike): SettlementLine[];
  relationsOf(customer: number): { from: number; kind: string; to: number }[];
  /** Checks a segment rule without evaluating it (`RuleError` with line and column). */
  parseRule(rule: string): void;
  /** A customer's erasure; `null` if not erased. */
  erasure(customer: number): Erasure | null;
  /** The erasure register (no personal value). */
  erasures(): Erasure[];
  /** A customer's leads, in id order. */
  leadsOf(customer: number): Record<string, unknown>[];
  /** A customer's complaints, in id order. */
  complaintsOf(customer: number): Complaint[];
  /** A customer's surveys, in id order. */
  surveysOf(customer: number): Record<string, unknown>[];
  /** A customer's rollup (all zero for a customer without history). */
  rollup(customer: number): Rollup;
  vehicleCount(): number;
  touchpointCount(): number;
  /** Every customer id, ascending. */
  customerIds(): number[];
  /** The customer holding a national ID (validated first: a malformed one is a ValidationError); `null` if none. */
  customerByNationalId(nationalId: string): number | null;
  /** The organisation holding a unified social credit code (validated first); `null` if none. */
  customerByCreditCode(code: string): number | null;
  /** A customer's home dealer on a date (its latest service visit's), off the JS thread. */
  homeDealer(customer: number, on: DateLike): Promise<number | null>;
  /**
   * Each customer's home dealer on `on` (see `homeDealer`) as an Arrow IPC stream of
   * `customer` (uint64) and `home_dealer` (uint32, null if none): `tableFromIPC(buffer)`.
   */
  homeDealersTable(on: DateLike): Promise<Buffer>;
}
export type RecordKind = 'customer' | 'vehicle' | 'touchpoint' | 'lead';
/** Field groups (core's names): identity, contact, profile, vehicle_spec, purchase_dates, service_dates. */
export interface SourceSystem { name: string; priorities: Record<string, number>; verifies: boolean }
export interface SourceSystemInput { name: string; priorities?: number | Record<string, number>; verifies?: boolean }
/** A rejection as `reject` takes it when it is not a caught `AutocrmError`. */
export interface RejectionInput { code: string; message: string; field?: string | null; hint?: string | null }
/** Where a rejected record came from: no `dealer` is the unassigned queue; `receivedAt` defaults to now. */
export interface RejectOptions { dealer?: number; line?: number; receivedAt?: DateLike }
/** A record received from a source system: `source` is required and must be registered. */
export interface Received { source: SourceLike; dealer?: number; receivedAt?: DateLike }
export interface UpsertResult { id: number; outcome: 'created' | 'updated' | 'unchanged'; conflicts: number; incomplete: boolean }
export interface TierFloorInput { tier: string; from: DateLike; until?: DateLike; operator: string; reason: string }
export interface TierChange { on: Date; from: string; to: string; why: string }
export interface SettlementLine { debtor: number; creditor: number; points: number; amount: number }
export interface LoyaltyConfig {
  rules: ({ name: string; kind: string; wallet: 'brand' | 'issuing_dealer'; points: number } | { name: string; kind: string; wallet: 'brand' | 'issuing_dealer'; pointsPerYuan: number; amount: 'total' | 'parts' | 'labour' })[];
  multipliers: Record<string, number>; lotDays: number;
  tiers: { tier: string; minVehicles: number | null; minServiceVisits: number | null; minTotalSpend: number | null; minSingleTicket: number | null; minQualifyingPoints: number | null }[];
  tierWindowDays: number; downgradeGraceDays: number; benefits: Record<string, Benefits>; settlementPer100Points: number;
}
export interface EarnRuleInput { name: string; kind: string; wallet?: 'brand' | 'issuing_dealer'; points?: number; pointsPerYuan?: number; amount?: 'total' | 'parts' | 'labour' }
export interface TierRuleInput { tier: string; minVehicles?: number | null; minServiceVisits?: number | null; minTotalSpend?: MoneyLike | null; minSingleTicket?: MoneyLike | null; minQualifyingPoints?: number | null }
export interface BenefitsInput { labourDiscountPct?: number; partsDiscountPct?: number; rescueDiscountPct?: number; priority?: boolean }
/** Core's `LoyaltyConfig` in camelCase; tiers keyed by name (`{ silver: 120 }`). */
export interface LoyaltyConfigInput { rules?: EarnRuleInput[]; multipliers?: Record<string, number>; lotDays?: number; tiers?: TierRuleInput[]; tierWindowDays?: number; downgradeGraceDays?: number; benefits?: Record<string, BenefitsInput>; settlementPer100Points?: MoneyLike }
export interface SegmentVersion { saved: Date; definition: string }
export interface EscalationParams { monthDays?: number; monthLimit?: number; quarterDays?: number; quarterLimit?: number }
export interface Escalation { customer: number; category: string; month: number[]; quarter: number[]; dealers: number[]; latest: Date }
export interface Complaint { id: number; customer: number; vehicle: number | null; dealer: number | null; category: string; received: Date; status: ComplaintStatus; firstResponse: Date | null; analysed: Date | null; resolved: Date | null; calledBack: Date | null; closed: Date | null; note: string | null; source: { system: string; recordId: string } | null }
export type ComplaintStatus = 'received' | 'analysed' | 'resolved' | 'called_back' | 'closed';
export interface Role { permissions: string[]; consentedChannel: string | null }
export interface Conflict { id: number; entity: string; record: number; field: string; current: string | null; offered: string; source: { system: string; recordId: string }; dealer: number | null; received: Date; priority: number; verified: boolean; reason: string; status: 'open' | 'accepted' | 'rejected'; resolvedBy: string | null; resolvedAt: Date | null }
export interface FeedbackEntry { id: number; dealer: number | null; kind: string; source: { system: string; recordId: string }; line: number | null; raw: string; code: string; field: string | null; message: string; hint: string; received: Date; firstRejected: Date }
export interface CareAction { kind: string; customer: number; vehicle: number | null; lead: number | null; complaint: number | null; due: Date; basis: Date; dealer: number | null; channel: string; marketing: boolean; detail: string }
export interface Analytics {
  kpi(name: string, period: Period, by?: Dimension): Promise<KpiRow[]>;
  evaluate(rule: string, asOf: DateLike): Promise<Members>;
  segmentCount(rule: string, asOf: DateLike): Promise<number>;
  /** An Arrow IPC stream: `tableFromIPC(buffer)` (apache-arrow). */
  table(name: TableName, opts?: TableOptions): Promise<Buffer>;
}
export interface Writes {
  insertDealer(rec: DealerInput): number;
  insertCustomer(rec: CustomerInput): number;
  updateCustomer(id: number, rec: CustomerInput): void;
  insertVehicle(rec: VehicleInput): number;
  transferVehicle(vehicle: number, to: number, on: DateLike): void;
  insertTouchpoint(rec: TouchpointInput): number;
  insertLead(rec: LeadInput): number;
  insertComplaint(rec: ComplaintInput): number;
  insertSurvey(rec: SurveyInput): number;
  recordConsent(customer: number, rec: ConsentInput): void;
  joinBrandClub(customer: number, on: DateLike, source?: string): Membership;
  joinDealerClub(customer: number, dealer: number, on: DateLike, source?: string): Membership;
  /**
   * Stores the club configuration (touchpoints earn once one is stored); a key not given takes
   * core's default, no argument stores core's defaults. Core validates it (`ValidationError`).
   */
  setLoyaltyConfig(config?: LoyaltyConfigInput): void;
  redeem(rec: RedemptionInput): number;
  adjust(rec: AdjustmentInput): number;
  reverse(rec: ReversalInput): number;
  saveSegment(name: string, definition: string, saved?: DateLike): number;
  eraseCustomer(customer: number, by: string, reason: string): Erasure;
  relate(from: number, kind: string, to: number): void;
  /** One batch, atomic within the transaction; a failing record is named by `record`. */
  insertCustomers(recs: CustomerInput[]): number[];
  insertTouchpoints(recs: TouchpointInput[]): number[];
  insertLeads(recs: LeadInput[]): number[];
  insertComplaints(recs: ComplaintInput[]): number[];
  insertSurveys(recs: SurveyInput[]): number[];
  /** Vehicles in one batch (each with `owner` + `since`: its first owner); a failing record is named by `err.record`. */
  insertVehicles(recs: VehicleInput[]): number[];
  /** Refused (`invalid_operation`) for a customer with vehicles or loyalty postings. */
  deleteCustomer(id: number): void;
  /** Ownership is unchanged (no `owner`: see `transferVehicle`). */
  updateVehicle(id: number, rec: VehicleInput): void;
  /** Its customer cannot change. */
  updateLead(id: number, rec: LeadInput): void;
  /** One step along received → analysed → resolved → called_back → closed (`to` or the next). */
  advanceComplaint(id: number, at: DateLike, to?: ComplaintStatus): Complaint;
  respondToComplaint(id: number, at: DateLike): Complaint;
  /** Evaluates saved segment `name` on the committed data and stores its members for `asOf`. */
  materialiseSegment(name: string, asOf: DateLike): Members;
  deleteTouchpoint(id: number): void;
  expireLots(asOf: DateLike): { lots: number; points: number };
  reviewTiers(asOf: DateLike): { customer: number; on: Date; from: string; to: string; why: string }[];
  /** `accept` applies the offered value, `reject` keeps the stored one. */
  resolveConflict(id: number, resolution: 'accept' | 'reject', by: string, at?: DateLike): Conflict;
  /** Registers a change-feed consumer at the latest change (turning the feed on); its position. */
  registerConsumer(name: string): number;
  unregisterConsumer(name: string): boolean;
  /** Records that `name` has read every change up to `position`; the position kept (never moves back). */
  acknowledge(name: string, position: number): number;
  setChangeRetention(retention: Retention): void;
  disableChangeFeed(): void;
  /** Removes the changes the retention no longer keeps; how many. */
  pruneChanges(): number;
  /**
   * A customer received from a source system: matched to a stored one (this source record's,
   * same national ID / credit code, the owner of `vin`, same phone and name) and merged field
   * by field by source priority (what loses becomes a conflict), else created.
   */
  upsertCustomer(rec: Omit<CustomerInput, 'source'> & Received & { vin?: string }): UpsertResult;
  /** A vehicle received from a source system, owned by `owner`: matched by VIN, then by source record. */
  upsertVehicle(rec: Omit<VehicleInput, 'source' | 'owner' | 'since'> & Received & { owner: number }): UpsertResult;
  /** Replaces the whole source registry. */
  setSources(systems: SourceSystemInput[]): void;
  /** Registers (or re-registers) a source system: one priority for every field group, or per group. */
  registerSource(name: string, priorities: number | Record<string, number>, verifies?: boolean): void;
  setSourcePriority(system: string, group: string, priority: number): void;
  /** Removes a source record's feedback-queue entry; whether there was one. */
  clearFeedback(kind: RecordKind, source: SourceLike): boolean;
  /**
   * Puts a rejected record into the sending dealer's feedback queue, keyed by its source
   * record: `error` is the `AutocrmError` caught for it (code, field and message kept; the
   * hint is core's for the code unless given), `raw` the record as delivered. Rejecting the
   * same source record again replaces its entry; a later successful upsert of it removes the
   * entry. Returns the entry's id. An `error` without a code is a `TypeError`.
   */
  reject(kind: RecordKind, source: SourceLike, raw: string, error: AutocrmError | RejectionInput, opts?: RejectOptions): number;
  /** Merges `merged` into `survivor` (`merged` becomes a redirect), by operator `by` at `at` (default now). */
  mergeCustomers(survivor: number, merged: number, by: string, at?: DateLike): MergeRecord;
  /** An operator's minimum tier for a customer from `from` (until `until`). */
  setTierFloor(customer: number, floor: TierFloorInput): void;
  /** Removes a relation; whether it existed. */
  unrelate(from: number, kind: string, to: number): boolean;
}

/** How long the change feed keeps a change: until every consumer read it, for ever, or days. */
export type Retention = 'untilConsumed' | 'until_consumed' | 'forever' | number;
export type ChangeEntity = 'dealer' | 'customer' | 'vehicle' | 'ownership' | 'touchpoint' | 'lead' | 'complaint' | 'survey' | 'membership' | 'posting' | 'tier' | 'consents' | 'segment' | 'segment_members' | 'relation' | 'merge' | 'erasure' | 'conflict' | 'loyalty_config' | 'source_registry' | 'roles';
export type ChangeKey =
  | { id: number }
  | { name: string }
  | { customer: number; id: number }
  | { from: number; kind: string; to: number }
  | { segment: string; day: Date }
  | { survivor: number; merged: number };
export interface Change { id: number; commit: number; at: Date; actor: string | null; scope: string | null; source: string | null; entity: ChangeEntity; op: 'insert' | 'update' | 'delete'; key: ChangeKey; customer: number | null }
export interface ChangePage { changes: Change[]; next: number; last: number }
export interface Consumer { name: string; position: number }

export interface WriteTransaction extends Writes {
  readonly finished: boolean;
  commit(): void;
  abort(): void;
  setDurable(durable: boolean): void;
  /** Who makes this transaction's changes (and under which scope), as the change feed records it. */
  setActor(actor: string, scope?: string | null): void;
  /** The source system this transaction's changes come from, as the change feed records it. */
  setSource(source: string): void;
}
export interface ReadTransaction extends Reads, Analytics {
  close(): void;
}

export interface ScopedDatabase extends Analytics {
  readonly scope: string;
  /**
   * The changes after `after` this scope may see (a dealer: its customers and its own records;
   * an owner: himself). Needs `export` (an owner: `read_customers`); audited as an export. A
   * page may hold fewer than `limit` changes and still not be the last (`next < last`).
   */
  changes(after?: number, limit?: number): ChangePage;
  find(key: string): number[];
  customer360(id: number, timelineLimit?: number): Customer360;
  timeline(customer: number, limit?: number, before?: TimelineCursor | null): TimelinePage;
  addTouchpoint(rec: TouchpointInput): number;
  recordConsent(customer: number, channel: string, granted: boolean): void;
  redeem(rec: RedemptionInput): number;
  erase(customer: number, reason: string): Erasure;
  updateMyContact(rec: ContactInput): void;
  auditLog(customer?: number | null, after?: number | null, limit?: number): AuditEntry[];
  verifyAudit(): AuditVerification;
  auditHead(): AuditHead;
  flushAudit(): void;
  /** Several periods are computed on one snapshot: one row set per period, in order. */
  kpi(name: string, period: Period | Period[], by?: Dimension): Promise<KpiRow[]>;
  evaluateSegment(name: string, asOf: DateLike): Promise<Members>;
  dueActions(from: DateLike, to: DateLike, params?: CareParams): Promise<CareAction[]>;
  addLead(rec: LeadInput): number;
  addComplaint(rec: ComplaintInput): number;
  /** The HQ roles by name (needs `manage_roles`). */
  roles(): Record<string, Role>;
  /** Stores a role (core's permission names), or removes it with `null` (needs `manage_roles`). */
  setRole(name: string, permissions: string[] | null, consentedChannel?: string | null): void;
  /** Needs `manage_data`. */
  importFile(path: string, opts?: ImportOptions): Promise<ImportReport>;
  /** `Database.exportLake` as this scope sees it (needs `export`; masked; audited once). */
  exportLake(dir: string, opts?: LakeOptions): Promise<LakeReport>;
  conflicts(opts?: { openOnly?: boolean; customer?: number }): Conflict[];
  resolveConflict(id: number, accept: boolean): Conflict;
  duplicates(opts?: { minScore?: number; customer?: number }): DuplicateCandidate[];
  merge(survivor: number, merged: number): MergeRecord;
  /** A dealer: its own queue; `manage_data`: `dealer`'s, or every queue. */
  feedback(dealer?: number): FeedbackEntry[];
  qualityReport(asOf: DateLike): QualityReport;
  // The owner app's calls: an owner scope only (any other scope is AccessDeniedError).
  myProfile(): { id: number; customer: Customer; masked: string[] };
  myVehicles(): Vehicle[];
  myHistory(limit?: number, before?: TimelineCursor | null): TimelinePage;
  /** `withinDays` (default 30, at most 3660): the window of the lots listed as expiring. */
  myPoints(withinDays?: number): OwnerWallet[];
  myTier(): OwnerTier;
  myBenefits(): Benefits;
  /** Care reminders due from today for `days` days (default 90, at most 3660). */
  myReminders(days?: number): CareAction[];
  /** Every channel: whether marketing may use it today. */
  myConsents(): Record<string, boolean>;
  setMyConsent(channel: string, granted: boolean): void;
  /** `key` and `at` come from the phone: a retry with both the same spends nothing more. */
  redeemMine(rec: { points: number; item: string; key: string; at: DateLike; wallet?: 'brand' | number }): number;
  /** Returns the referral lead's id; a retry with the same key returns the same lead. */
  referFriend(rec: { name: string; phone: string; dealer: string; model: string; key: string }): number;
}
export interface OwnerWallet { wallet: 'brand' | number; balance: Balance; spendable: number; expiring: { lot: number; points: number; expires: Date }[] }
export interface OwnerTier { status: TierStatus; next: { tier: string; vehicles: number | null; serviceVisits: number | null; totalSpend: number | null; singleTicket: number | null; points: number | null } | null }
export interface Benefits { labourDiscountPct: number; partsDiscountPct: number; rescueDiscountPct: number; priority: boolean }
/** Core's CareParams (camelCase); a key not given takes core's default; null km: no mileage rule. */
export interface CareParams {
  callbackDay3Days?: number; callbackDay7Days?: number; callbackMonth1Months?: number;
  firstServiceMonths?: number; firstServiceKm?: number | null; maintenanceMonths?: number;
  maintenanceKm?: number | null; insuranceLeadDays?: number; inspectionLeadDays?: number;
  warrantyLeadDays?: number; leadReportDays?: number; complaintCallbackDays?: number;
}
export interface DuplicateCandidate { customer: number; other: number; score: number; reasons: string[] }
export interface MergeCounts { vehicles: number; touchpoints: number; relations: number; relationsBetween: number; relationsDuplicate: number; leads: number; complaints: number; surveys: number; consentEvents: number; phonesAdded: number }
export interface MergeRecord { survivor: number; merged: number; at: Date; by: string; counts: MergeCounts; mergedCustomer: Customer; survivorBefore: Customer; filled: string[]; vehicles: number[]; droppedRelations: { from: number; kind: string; to: number }[] }
export interface QualityRow { dealer: number | null; label: string; customers: number; customersSold: number; validInfo: number; validInfoRatio: number | null; rejections: Record<string, number>; queuedByReason: Record<string, number>; openConflicts: number; queueSize: number; oldestQueuedDays: number | null }
/** A record of a sync batch that could not be applied, with its ids as the batch gave them. */
export interface SyncRejection { entity: 'customer' | 'vehicle' | 'touchpoint' | 'merge' | 'erasure'; hq: number | null; replica: number | null; code: string; message: string }
/**
 * What one step of a replica round trip did. `alreadyApplied`: the batch had been applied
 * before, nothing was done; `more`: pull: HQ has more; serve: the answer is not the last page.
 */
export interface SyncReport { customers: number; vehicles: number; touchpoints: number; merges: number; erasures: number; consents: number; unchanged: number; rejected: SyncRejection[]; alreadyApplied: boolean; more: boolean }
/** `syncServe`: the answer for the replica's `syncPull`, and what applying the replica's batch did. */
export interface SyncServed { batch: Buffer; report: SyncReport }
/** `syncWith`: the reports of the last serve (at HQ) and pull (here). */
export interface SyncRound { served: SyncReport; pulled: SyncReport }
/** A replica's standing: `pendingSensitive` not zero: sync at once (a complaint, a rescue…). */
export interface ReplicaStatus { name: string; scope: string; pending: number; pendingSensitive: number; copied: boolean; position: number }
/** A replica HQ registered: the replica's latest change HQ applied, batches served. */
export interface ReplicaState { name: string; scope: string; applied: number; syncs: number }
export interface QualityReport { asOf: Date; rows: QualityRow[]; network: QualityRow }

export interface Database extends Reads, Writes, Analytics {}
export class Database {
  static open(path: string, opts?: OpenOptions): Database;
  static inMemory(opts?: Omit<OpenOptions, 'readOnly' | 'cacheBytes'>): Database;
  readonly path: string | null;
  readonly closed: boolean;
  close(): void;
  now(): Date;
  check(): { ok: boolean; storage: string; problems: { table: string; detail: string }[] };
  flushAudit(): void;
  /** Commits when `fn` returns, rolls back when it throws; `fn` must be synchronous. */
  write<T>(fn: (tx: WriteTransaction) => T): T;
  /** One snapshot; released when `fn` returns (or its promise settles). */
  read<T>(fn: (r: ReadTransaction) => T): T;
  /** The database as `scope` ("hq:<role>", "dealer:<code>", "owner:<id>") sees it. */
  as(scope: string, actor: string, opts?: { purpose?: string }): ScopedDatabase;
  generate(opts?: GenerateOptions): Promise<Record<string, number>>;
  /**
   * The whole store as Parquet files under `dir` (one folder per table, touchpoints under
   * `touchpoints/month=YYYY-MM/`, `_manifest.json` last); `dir` new, empty or an earlier export.
   */
  exportLake(dir: string, opts?: LakeOptions): Promise<LakeReport>;
  importFile(path: string, opts?: ImportOptions): Promise<ImportReport>;
  importBuffer(data: Buffer | string, name?: string, opts?: ImportOptions): Promise<ImportReport>;
  // Replicas that sync with HQ (docs/sync.md): batches travel as Buffers.
  /** On HQ's file: registers replica `name` with scope "dealer:<code>" or "owner:<id>". */
  registerReplica(name: string, scope: string): void;
  /** Makes this empty file replica `name` of HQ with `scope` (as HQ registered it). */
  initReplica(name: string, scope: string): void;
  /** On a replica: its changes HQ has not confirmed, for HQ's `syncServe`. */
  syncPush(): Buffer;
  /** On HQ's file (off the JS thread): applies a replica's batch; the answer and the report. */
  syncServe(up: Buffer | Uint8Array): Promise<SyncServed>;
  /** On a replica (off the JS thread): applies HQ's answer. */
  syncPull(down: Buffer | Uint8Array): Promise<SyncReport>;
  /** On a replica (off the JS thread): round trips with `hq` until it has nothing more (at most `maxRounds`, default 100). */
  syncWith(hq: Database, maxRounds?: number): Promise<SyncRound>;
  /** On a replica: its standing (`invalid_operation.not_a_replica` otherwise). */
  syncStatus(): ReplicaStatus;
  /** On HQ's file: the replicas it has registered. */
  replicas(): ReplicaState[];
  /** Rewrites the file to hold only live data (off the JS thread); whether anything moved. Refused while a transaction is open. */
  compact(): Promise<boolean>;
  /** Rewrites a closed database file into a fresh one holding only live records (after erasures). */
  static vacuum(path: string): Promise<void>;
}

export class AutocrmError extends Error {
  /** Core's stable code, e.g. "validation.name_placeholder", "not_found", "access_denied". */
  readonly code: string;
  /** The field the error is about (camelCase), if any. */
  readonly field: string | null;
  /** The 0-based record of a batch, if any. */
  readonly record: number | null;
  /** The kind's own attributes (camelCase), e.g. `rule`, `value`, `entity`, `key`. */
  readonly details: Record<string, string | number>;
  /** How to fix it (core's hint for the code), or null where core has none. */
  readonly hint: string | null;
}
export class ValidationError extends AutocrmError {}
export class NotFoundError extends AutocrmError {}
export class DuplicateKeyError extends AutocrmError {}
export class InvalidOperationError extends AutocrmError {}
export class InsufficientPointsError extends AutocrmError {}
export class IdempotencyConflictError extends AutocrmError {}
export class RuleError extends AutocrmError {}
export class LimitExceededError extends AutocrmError {}
export class AccessDeniedError extends AutocrmError {}
export class UnknownScopeError extends AutocrmError {}
export class AlreadyOpenError extends AutocrmError {}
export class ReadOnlyError extends AutocrmError {}
export class UpgradeRequiredError extends AutocrmError {}
export class CorruptError extends AutocrmError {}
export class StorageError extends AutocrmError {}
export class ImportError extends AutocrmError {}
export class InternalError extends AutocrmError {}

/** A calendar date as autocrm returns it (UTC midnight). */
export function date(year: number, month: number, day: number): Date;
/** A naive local date-time as autocrm returns it (wall-clock fields as UTC fields). */
export function localTime(year: number, month: number, day: number, hour?: number, minute?: number, second?: number): Date;
