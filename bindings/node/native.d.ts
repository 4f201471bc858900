// The native module's declarations (native/autocrm.node), GENERATED from the #[napi] items in
// src/ by scripts/native-types.js: do not edit; run `npm run native-types` in bindings/node.
// Internal: the package's API is index.js, typed by the hand-written index.d.ts.

/* eslint-disable */

// Rust types the #[napi] signatures name that napi-derive does not declare.
/** A value built by src/value.rs (`V`): a plain object, array, string, number, boolean, Date, Buffer or null. */
type V = any
/** A large read result (src/value.rs `Json`): `[value, dates]` JSON text for index.js `fromJson`, or the value. */
type Json = string | V
/** An import's progress callback (src/lib.rs `Progress`). */
type Progress = (progress: { rows: number; bytes: number; totalBytes: number | null }) => void
type LakeReport = import('./index').LakeReport
type SyncReport = import('./index').SyncReport
type SyncServed = import('./index').SyncServed
type SyncRound = import('./index').SyncRound

/** An open database: a shell over core's `api::Store`. */
export declare class NativeDatabase {
  /**
   * On HQ's file: registers replica `name` with scope `scope` (`dealer:<code>` or
   * `owner:<id>`); again with the same scope does nothing.
   */
  registerReplica(name: string, scope: string): void
  /** Makes this empty file replica `name` of HQ with scope `scope`. */
  initReplica(name: string, scope: string): void
  /** On a replica: the batch of its changes HQ has not confirmed, for HQ's `syncServe`. */
  syncPush(): Buffer
  /**
   * On HQ's file (on the pool): applies a replica's pushed batch; resolves to
   * `{ batch, report }`, the answer for the replica's `syncPull` and what applying did.
   */
  syncServe(up: Buffer): Promise<SyncServed>
  /** On a replica (on the pool): applies HQ's answer; resolves to the report. */
  syncPull(down: Buffer): Promise<SyncReport>
  /**
   * On a replica (on the pool): round trips with `hq` until HQ has nothing more, at most
   * `max_rounds` (default 100); resolves to `{ served, pulled }`, the last reports.
   */
  syncWith(hq: NativeDatabase, maxRounds?: number | undefined | null): Promise<SyncRound>
  /** On a replica: `{ name, scope, pending, pendingSensitive, copied, position }`. */
  syncStatus(): V
  /** On HQ's file: `[{ name, scope, applied, syncs }]`. */
  replicas(): V
  /** Opens (creating if missing) the database file at `path`. */
  static open(path: string, opts?: any | undefined | null): NativeDatabase
  /** A new, empty in-memory database. */
  static inMemory(opts?: any | undefined | null): NativeDatabase
  /** The file's path (`null` in memory). */
  get path(): string | null
  /** Whether `close()` was called. */
  get closed(): boolean
  /** Closes the handle (idempotent); work still running finishes on its own snapshot. */
  close(): void
  /** Now by the handle's clock (naive local time). */
  now(): V
  /** Starts a write transaction. */
  write(): NativeWrite
  /** Starts a read snapshot. */
  read(): NativeRead
  /** This database as `scope` sees it, for `actor`, with an optional audit purpose. */
  scoped(scope: string, actor: string, purpose?: string | undefined | null): NativeScoped
  /** Appends the queued audit entries of scoped reads now. */
  flushAudit(): void
  /**
   * Rewrites the file so it holds only live data (on the pool); resolves to whether
   * anything moved. Refused (`invalid_operation`) while a transaction of this handle is
   * open.
   */
  compact(): Promise<boolean>
  /** Integrity check: `{ ok, storage, problems }`. */
  check(): V
  /**
   * Writes the whole store as Parquet files under `dir` (core `export::lake`, on the
   * pool): one folder per table, touchpoints by month, `_manifest.json` last. Resolves to
   * the report.
   */
  exportLake(dir: string, opts?: any | undefined | null): Promise<LakeReport>
  /** Generates a seeded synthetic dealer network into this database (on the pool). */
  generate(opts?: any | undefined | null): Promise<Record<string, number>>
  /**
   * Imports a CSV / JSON Lines file (or `data`, a Buffer, named `path`) on the pool;
   * `progress({ rows, bytes, totalBytes })` is called on the JS thread after each committed
   * batch (queued without blocking the import).
   */
  import(path: string, data?: Buffer | undefined | null, opts?: any | undefined | null, progress?: Progress | undefined | null): Promise<unknown>
}

/** A read snapshot (`db.read(r => …)`). */
export declare class NativeRead {
  /** The changes after `after`: `{ changes, next, last }`. */
  changes(after?: number | undefined | null, limit?: number | undefined | null): V
  /** The id of the latest change (0: none). */
  lastChange(): V
  /** Whether commits append to the feed. */
  changeFeedEnabled(): V
  /** How long the feed keeps changes: `'until_consumed'`, `'forever'` or days. */
  changeRetention(): V
  /** The registered consumers. */
  consumers(): V
  /** How far `name` has read. */
  consumerPosition(name: string): V
  /** The registered source systems (the defaults while none is stored). */
  sources(): V
  /** Where each field of vehicle `id` came from. */
  lineageOfVehicle(id: number): V
  /** Conflict `id`. */
  conflict(id: number): V
  /** Every conflict (open and resolved) about a customer and the vehicles it owns or owned. */
  conflictsOf(customer: number): V
  /** Number of open conflicts. */
  openConflictCount(): V
  /** The queued feedback entry of source record `source` of `kind` (`null` if none). */
  feedbackEntry(kind: string, source: any): V
  /** Every queued feedback entry, by dealer (the unassigned queue first), then oldest first. */
  feedbackAll(): V
  /** Lifetime rejection counts: `[{ dealer, code, count }]` (`dealer` null: unassigned). */
  rejectionCounts(): V
  /**
   * Every pair of customers that may be one, scoring at least `minScore` (default 70),
   * highest first (on the pool: it compares the whole customer table).
   */
  duplicateCandidates(minScore?: number | undefined | null): Promise<unknown>
  /** The duplicate candidates of one customer (any score), highest first. */
  duplicatesOf(customer: number): V
  /** The live customer `id` stands for: itself, or the customer it was merged into. */
  resolveCustomer(id: number): V
  /** Every merge whose data ended in `survivor`, oldest first. */
  mergesOf(survivor: number): V
  /**
   * The stored club configuration (`null` while none is stored), in `setLoyaltyConfig`'s
   * shape.
   */
  loyaltyConfig(): V
  /** Points of a wallet (`"brand"` or a dealer id) spendable on `on` (lots not expired). */
  spendable(customer: number, on: any, wallet?: any | undefined | null): V
  /** Posting `id`. */
  posting(id: number): V
  /** The customer's recorded tier changes, oldest first. */
  tierHistory(customer: number): V
  /** The benefits of the customer's tier on `asOf`. */
  benefits(customer: number, asOf: any): V
  /** Dealer-to-dealer settlement for redemptions on days `from ≤ d < to`. */
  settlement(from: any, to: any): V
  /** Releases the snapshot. */
  close(): void
  /** A customer by id. */
  customer(id: number): V
  /** A dealer by id. */
  dealer(id: number): V
  /** A dealer's id by code (`null` if none). */
  dealerByCode(code: string): V
  /** Every dealer. */
  dealers(): V
  /** A vehicle by id, with its owners. */
  vehicle(id: number): V
  /** A vehicle's id by VIN (`null` if none). */
  vehicleByVin(vin: string): V
  /** A vehicle's id by plate (`null` if none). */
  vehicleByPlate(plate: string): V
  /** A customer's vehicles (current and past). */
  vehiclesOf(customer: number): V
  /** A touchpoint by id. */
  touchpoint(id: number): V
  /**
   * Customer ids matching any key a call centre has (id, national ID, credit code, VIN,
   * mobile, plate).
   */
  findCustomers(text: string): V
  /** Customer ids with mobile `phone`. */
  customersByPhone(phone: string): V
  /** The 360° view (JSON text: see [`Json`]). */
  customer360(id: number, timelineLimit?: number | undefined | null): string
  /**
   * A page of a customer's timeline, newest first, older than `before` (a page's `next`;
   * JSON text: see [`Json`]).
   */
  timeline(customer: number, limit?: number | undefined | null, before?: any | undefined | null): string
  /** Number of customers. */
  customerCount(): V
  /** Number of vehicles. */
  vehicleCount(): V
  /** Number of touchpoints. */
  touchpointCount(): V
  /** Every customer id, ascending. */
  customerIds(): V
  /** The customer holding a national ID (validated and normalised first; `null` if none). */
  customerByNationalId(nationalId: string): V
  /** The organisation holding a unified social credit code (validated first; `null` if none). */
  customerByCreditCode(code: string): V
  /** A wallet's balance (`"brand"` or a dealer id). */
  balance(customer: number, wallet?: any | undefined | null): V
  /** Every wallet of a customer with its balance. */
  walletsOf(customer: number): V
  /** A customer's postings, oldest first. */
  postingsOf(customer: number): V
  /** The posting made with idempotency key `key` (`null` if none). */
  postingByKey(key: string): V
  /** A customer's club membership (`null` if none). */
  membership(customer: number): V
  /** A customer's tier as of a date. */
  tierStatus(customer: number, asOf: any): V
  /** Verifies the audit trail's hash chain. */
  verifyAudit(): V
  /** Checks the loyalty ledger's invariants: `{ ok, wallets, postings, lots, problems }`. */
  verifyLedger(): V
  /** Names of the saved segments. */
  segmentNames(): V
  /** A saved segment's versions, oldest first (`null` if none). */
  segment(name: string): V
  /** The members of `name` materialised for `asOf`: `{ size, ids }` (`null` if not done). */
  materialised(name: string, asOf: any): V
  /** Who entered and who left materialised segment `name` between two dates. */
  segmentDiff(name: string, from: any, to: any): V
  /**
   * Complaint escalations as of `asOf`, with optional `{ monthDays, monthLimit,
   * quarterDays, quarterLimit }` (core's defaults otherwise).
   */
  complaintEscalations(asOf: any, params?: any | undefined | null): V
  /** A lead by id. */
  lead(id: number): V
  /** A complaint by id. */
  complaint(id: number): V
  /** A survey by id. */
  survey(id: number): V
  /** A customer's consent history, oldest first. */
  consents(customer: number): V
  /** A customer's leads, in id order. */
  leadsOf(customer: number): V
  /** A customer's complaints, in id order. */
  complaintsOf(customer: number): V
  /** A customer's surveys, in id order. */
  surveysOf(customer: number): V
  /** A customer's rollup (all zero for a customer without history). */
  rollup(customer: number): V
  /** A customer's relations, both directions. */
  relationsOf(customer: number): V
  /** Checks a segment rule without evaluating it (a `RuleError` names line and column). */
  parseRule(rule: string): void
  /** The erasure of customer `id` (`null` if not erased). */
  erasure(id: number): V
  /** The erasure register: every erasure, by customer id (no personal value). */
  erasures(): V
  /**
   * A customer's home dealer on `on` (`null` if none), from the snapshot's facts (on the
   * pool: the facts are built once per read).
   */
  homeDealer(customer: number, on: any): Promise<number | null>
  /** Where each profile field of a customer came from. */
  lineage(customer: number): V
  /** Conflicts (offers not applied), open ones only by default. */
  conflicts(openOnly?: boolean | undefined | null): V
  /**
   * The feedback queue of rejected records of `dealer`, or without one the unassigned
   * queue (records no dealer sent), as Python's `feedback`; `feedbackAll` gives every queue.
   */
  feedback(dealer?: number | undefined | null): V
  /**
   * Care actions due on days `from ≤ d < to` (core's default rules), for one dealer or all
   * (on the pool).
   */
  dueActions(from: any, to: any, dealer?: number | undefined | null): Promise<unknown>
  /** The audit trail, oldest first, after sequence `after` (one customer's with `customer`). */
  auditLog(customer?: number | undefined | null, after?: number | undefined | null, limit?: number | undefined | null): V
  /** KPI rows (on the pool; the snapshot's facts are built once per read). */
  kpi(name: string, period: string, by?: string | undefined | null): Promise<unknown>
  /** Members of a segment rule as of a date: `{ size, ids }` (on the pool). */
  evaluate(rule: string, asOf: any): Promise<unknown>
  /** A table as an Arrow IPC stream (on the pool). */
  table(name: string, opts?: any | undefined | null): Promise<Buffer>
  /**
   * Each customer's home dealer on `on` — the dealer per-dealer KPIs count him at — as an
   * Arrow IPC stream of `customer`, `home_dealer` (on the pool, from the snapshot's facts).
   */
  homeDealersTable(on: any): Promise<Buffer>
}

/** The database as one scope sees it (`db.as(scope, actor)`): a shell over `ScopedStore`. */
export declare class NativeScoped {
  /** The changes after `after` this scope may see: `{ changes, next, last }`. */
  changes(after?: number | undefined | null, limit?: number | undefined | null): V
  /** My profile (owner scope), masked as the owner scope shows it. */
  myProfile(): V
  /** My vehicles, owned now or before, with my own ownership periods only. */
  myVehicles(): V
  /** A page of my history, newest first (`before`: the previous page's `next`). */
  myHistory(limit?: number | undefined | null, before?: any | undefined | null): V
  /** My points per wallet, with the lots expiring within `withinDays` days (30 unless given). */
  myPoints(withinDays?: number | undefined | null): V
  /** My tier today and what is missing for the next one. */
  myTier(): V
  /** The benefits of my tier today. */
  myBenefits(): V
  /** My reminders due from today for `days` days (90 unless given). */
  myReminders(days?: number | undefined | null): V
  /** My consents today: `{ channel: granted }` for every channel. */
  myConsents(): V
  /** Grants or withdraws my consent for `channel`. */
  setMyConsent(channel: string, granted: boolean): void
  /**
   * Redeems my points, `{ points, item, key, at, wallet = "brand" }`: `key` and `at` come
   * from the phone, so a retry with both the same spends nothing more.
   */
  redeemMine(rec: any): V
  /**
   * Refers a friend, `{ name, phone, dealer (code), model, key }`; returns the referral
   * lead's id (a retry with the same key returns the same lead).
   */
  referFriend(rec: any): V
  /** The scope, as text. */
  get scope(): string
  /** Customer ids matching `key` that this scope sees. */
  find(text: string): V
  /**
   * The 360° view as this scope sees it (`not_found` for a customer it does not see; JSON
   * text: see [`Json`]).
   */
  customer360(id: number, timelineLimit?: number | undefined | null): string
  /** A page of a customer's timeline as this scope sees it (JSON text: see [`Json`]). */
  timeline(customer: number, limit?: number | undefined | null, before?: any | undefined | null): string
  /** Adds a touchpoint (a dealer: its own); returns its id. */
  addTouchpoint(rec: any): V
  /** Records a consent or withdrawal, stamped now. */
  recordConsent(customer: number, channel: string, granted: boolean): void
  /** Redeems points (idempotent by `key`); returns the posting id. */
  redeem(rec: any): V
  /** Erases a customer's personal data (needs `erase`). */
  erase(customer: number, reason: string): V
  /** The owner changes his contact details. */
  updateMyContact(rec: any): void
  /** The audit trail (needs `read_audit`). */
  auditLog(customer?: number | undefined | null, after?: number | undefined | null, limit?: number | undefined | null): V
  /** Verifies the audit chain (needs `read_audit`). */
  verifyAudit(): V
  /** The audit chain head (needs `read_audit`). */
  auditHead(): V
  /** Appends queued read audit entries now. */
  flushAudit(): void
  /** The HQ roles: `{ name: { permissions, consentedChannel } }` (needs `manage_roles`). */
  roles(): V
  /**
   * Stores HQ role `name` with `permissions` (core's permission names) and an optional
   * consent channel; `permissions = null` removes the role (needs `manage_roles`).
   */
  setRole(name: string, permissions?: string[] | null, consentedChannel?: any | undefined | null): void
  /** KPI rows over what this scope sees (on the pool). */
  kpi(name: string, period: string | string[], by?: string | undefined | null): Promise<unknown>
  /** Members of a segment rule over what this scope sees (on the pool). */
  evaluate(rule: string, asOf: any): Promise<unknown>
  /** Members of saved segment `name` that this scope sees, as of `asOf` (on the pool). */
  evaluateSegment(name: string, asOf: any): Promise<unknown>
  /**
   * Care actions due on days `from ≤ d < to` for the customers this scope sees (a dealer:
   * its own), with optional care parameters (on the pool).
   */
  dueActions(from: any, to: any, params?: any | undefined | null): Promise<unknown>
  /** Adds a lead (a dealer: assigned to itself); returns its id. */
  addLead(rec: any): V
  /** Adds a complaint (a dealer: naming itself); returns its id. */
  addComplaint(rec: any): V
  /** Imports a file as `Database.importFile` does (needs `manage_data`; on the pool). */
  import(path: string, opts?: any | undefined | null, progress?: Progress | undefined | null): Promise<unknown>
  /**
   * Conflicts of customers this scope sees, `{ openOnly = true, customer }` (needs
   * `manage_data`).
   */
  conflicts(opts?: any | undefined | null): V
  /**
   * Resolves a conflict, decided by this scope's actor now: `accept` applies the offered
   * value, otherwise the stored one is kept (needs `manage_data`).
   */
  resolveConflict(id: number, accept: boolean): V
  /**
   * Duplicate candidates between customers this scope sees, `{ minScore = 70, customer }`
   * (needs `manage_data`).
   */
  duplicates(opts?: any | undefined | null): V
  /**
   * Merges customer `merged` into `survivor`, by this scope's actor now (needs
   * `manage_data`).
   */
  merge(survivor: number, merged: number): V
  /** A feedback queue: a dealer's own, or (with `manage_data`) `dealer`'s or every one. */
  feedback(dealer?: number | undefined | null): V
  /** The data-quality report as of `asOf` (needs `analytics`; a dealer: its own row). */
  qualityReport(asOf: any): V
  /** The lakehouse export as this scope sees it (needs `export`; audited), on the pool. */
  exportLake(dir: string, opts?: any | undefined | null): Promise<LakeReport>
  /** A table as this scope sees it, as an Arrow IPC stream (on the pool). */
  table(name: string, opts?: any | undefined | null): Promise<Buffer>
}

/** A write transaction (`db.write(tx => …)`). */
export declare class NativeWrite {
  /** Registers a change-feed consumer at the latest change (turning the feed on). */
  registerConsumer(name: string): V
  /** Removes a consumer; whether it was registered. */
  unregisterConsumer(name: string): V
  /** Records that `name` has read every change up to `position`. */
  acknowledge(name: string, position: number): V
  /** Sets how long the feed keeps changes. */
  setChangeRetention(retention: any): void
  /** Turns the feed off. */
  disableChangeFeed(): void
  /** Removes the changes the retention no longer keeps; how many. */
  pruneChanges(): V
  /** Who makes this transaction's changes (and under which scope), for the feed. */
  setActor(actor: string, scope?: string | undefined | null): void
  /** The source system this transaction's changes come from, for the feed. */
  setSource(source: string): void
  /**
   * Upserts a customer received from a source system (core's survivorship: matched, then
   * merged field by field by source priority, else created): the fields of
   * `insertCustomer` plus `source` (required, a registered system), `vin`, `dealer` (the
   * sending dealer) and `receivedAt` (default: now). Returns `{ id, outcome, conflicts,
   * incomplete }`.
   */
  upsertCustomer(rec: any): V
  /**
   * Upserts a vehicle received from a source system, owned by `owner` (required): the
   * fields of `insertVehicle` (without `since`) plus `source`, `dealer`, `receivedAt`.
   */
  upsertVehicle(rec: any): V
  /** Replaces the whole source registry: `[{ name, priorities, verifies }]`. */
  setSources(systems: Array<any>): void
  /**
   * Registers source system `name` (or replaces its registration): `priorities` a number
   * for every field group or `{ group: number }`.
   */
  registerSource(name: string, priorities: number | Record<string, number>, verifies?: boolean | undefined | null): void
  /** Sets one registered system's priority for one field group. */
  setSourcePriority(system: string, group: string, priority: number): void
  /**
   * Puts a rejected record into the sending dealer's feedback queue (core's
   * `WriteTxn::reject_as`), keyed by its source record `source` of `kind`: `error` is the
   * rejection's report shape `{ code, message, field?, hint? }` (index.js passes the caught
   * `AutocrmError`'s; no hint: core's for the code), `raw` the record as delivered, `opts`
   * `{ dealer, line, receivedAt }` (no dealer: the unassigned queue; no time: now).
   * Rejecting the same source record again replaces its entry; a later successful upsert
   * of it removes the entry. Returns the entry's id.
   */
  reject(kind: string, source: any, raw: string, error: { code: string; message: string; field?: string | null; hint?: string | null }, opts?: any | undefined | null): V
  /**
   * Removes the feedback-queue entry of source record `source` of `kind`; returns whether
   * there was one.
   */
  clearFeedback(kind: string, source: any): boolean
  /**
   * Merges customer `merged` into `survivor` (everything moves; `merged` becomes a
   * redirect), by operator `by` at `at` (default: now). Returns the merge record.
   */
  mergeCustomers(survivor: number, merged: number, by: string, at?: any | undefined | null): V
  /**
   * Sets an operator's tier floor for a customer: `{ tier, from, until, operator, reason }`
   * (core checks it and the number of floors).
   */
  setTierFloor(customer: number, floor: any): void
  /** Commits. */
  commit(): void
  /** Rolls back. */
  abort(): void
  /** Whether committed or aborted. */
  get finished(): boolean
  /** Turns fsync-on-commit off or on for this transaction. */
  setDurable(durable: boolean): void
  /** Inserts a dealer; returns its id. */
  insertDealer(rec: any): V
  /** Inserts a customer; returns its id. */
  insertCustomer(rec: any): V
  /**
   * Inserts customers in one batch (atomic within the transaction); returns their ids. A
   * failing record is named by `record` (0-based).
   */
  insertCustomers(recs: Array<any>): V
  /**
   * Inserts vehicles in one batch (each with `owner` and `since`: its first owner); returns
   * their ids. A failing record is named by `record` (0-based).
   */
  insertVehicles(recs: Array<any>): V
  /** Inserts touchpoints in one batch; returns their ids. */
  insertTouchpoints(recs: Array<any>): V
  /** Inserts leads in one batch; returns their ids. */
  insertLeads(recs: Array<any>): V
  /** Inserts complaints in one batch; returns their ids. */
  insertComplaints(recs: Array<any>): V
  /** Inserts surveys in one batch; returns their ids. */
  insertSurveys(recs: Array<any>): V
  /** Deletes a touchpoint (its rollup and loyalty effects with it). */
  deleteTouchpoint(id: number): void
  /** Expires loyalty lots past their date as of `asOf`: `{ lots, points }`. */
  expireLots(asOf: any): V
  /** Reviews every member's tier as of `asOf`; returns the changes made. */
  reviewTiers(asOf: any): V
  /** Replaces a customer's profile. */
  updateCustomer(id: number, rec: any): void
  /**
   * Deletes a customer with everything that holds his data (refused for a customer with
   * vehicles or loyalty postings).
   */
  deleteCustomer(id: number): void
  /** Replaces a vehicle's data (ownership is unchanged: no `owner`, see `transferVehicle`). */
  updateVehicle(id: number, rec: any): void
  /** Replaces a lead (its customer cannot change). */
  updateLead(id: number, rec: any): void
  /** Moves a complaint one step (to `to`, or the next status) at `at`; returns it as stored. */
  advanceComplaint(id: number, at: any, to?: any | undefined | null): V
  /** Records the first response to a complaint at `at`; returns it as stored. */
  respondToComplaint(id: number, at: any): V
  /**
   * Evaluates saved segment `name` as of `asOf` on the committed data and stores its
   * members for that date: `{ size, ids }`.
   */
  materialiseSegment(name: string, asOf: any): V
  /** Inserts a vehicle (with `owner` and `since`: its first owner); returns its id. */
  insertVehicle(rec: any): V
  /** Transfers a vehicle to another owner on a date. */
  transferVehicle(vehicle: number, to: number, on: any): void
  /** Inserts a touchpoint (earning loyalty points under the club's rules); returns its id. */
  insertTouchpoint(rec: any): V
  /** Inserts a lead; returns its id. */
  insertLead(rec: any): V
  /** Inserts a complaint; returns its id. */
  insertComplaint(rec: any): V
  /** Inserts a survey; returns its id. */
  insertSurvey(rec: any): V
  /** Records a consent or withdrawal: `{ channel, granted, at, source }`. */
  recordConsent(customer: number, rec: any): void
  /** Enrols a customer in the brand club. */
  joinBrandClub(customer: number, on: any, source?: string | undefined | null): V
  /** Enrols a customer in a dealer's club (and the brand club). */
  joinDealerClub(customer: number, dealer: number, on: any, source?: string | undefined | null): V
  /**
   * Stores the club configuration (touchpoints earn only once one is stored): core's
   * `LoyaltyConfig` fields in camelCase, a key not given taking core's default (no
   * argument: core's default rules). Core validates it.
   */
  setLoyaltyConfig(config?: any | undefined | null): void
  /** Redeems points (idempotent by `key`); returns the posting id. */
  redeem(rec: any): V
  /** Adjusts points (signed; idempotent by `key`); returns the posting id. */
  adjust(rec: any): V
  /** Reverses a credit posting (idempotent by `key`); returns the posting id. */
  reverse(rec: any): V
  /** Saves a segment definition; returns its version. */
  saveSegment(name: string, definition: string, saved?: any | undefined | null): V
  /** Relates two customers (`relative`, `contact`, `referred_by`, …). */
  relate(from: number, kind: string, to: number): void
  /** Removes a relation; returns whether it existed. */
  unrelate(from: number, kind: string, to: number): boolean
  /** Resolves a conflict: `accept` applies the offered value, `reject` keeps the stored one. */
  resolveConflict(id: number, resolution: string, by: string, at?: any | undefined | null): V
  /** Erases a customer's personal data (full access; audited as `by`). */
  eraseCustomer(customer: number, by: string, reason: string): V
}

/**
 * Test hook: panics inside a native call (sync, or on the pool when `in_pool`), to check that
 * a panic surfaces as an `InternalError` and never takes the process down.
 */
export declare function forcePanic(inPool: boolean): Promise<unknown> | null

/**
 * Rewrites the closed database file at `path` into a fresh file holding only its live
 * records (core's `Database::vacuum`, on the pool): after erasures, so no erased byte stays on
 * the disk. The file must not be open.
 */
export declare function vacuum(path: string): Promise<void>
