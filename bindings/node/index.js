// autocrm for Node: the public API over the native module (native/autocrm.node, built from
// src/ by scripts/build.js). Thin on purpose: every rule lives in the Rust core; this file
// converts arguments (Dates to ISO strings), runs transactions as callbacks and maps native
// errors to the error classes below. See README.md for the API in brief.
'use strict';

const path = require('node:path');

let native;
try {
  native = require(path.join(__dirname, 'native', 'autocrm.node'));
} catch (e) {
  throw new Error(
    `autocrm: the native module is missing or does not load (${e.message}); ` +
      'build it with `npm run build` (needs Rust/cargo) in the autocrm package directory',
  );
}

// ------------------------------------------------------------------------------------------
// Errors

/** Every error core reports: `code` is core's stable code (docs/errors.md). */
class AutocrmError extends Error {
  constructor(message, info = {}) {
    super(message);
    this.name = new.target.name;
    this.code = info.code ?? 'internal';
    this.field = info.field ?? null;
    this.record = info.record ?? null;
    this.details = info.details ?? {};
    this.hint = info.hint || null;
  }
}

// One subclass per core ErrorKind (core's ErrorKind::class_name), as in the Python binding.
const ERROR_CLASSES = [
  'ValidationError', 'NotFoundError', 'DuplicateKeyError', 'InvalidOperationError',
  'InsufficientPointsError', 'IdempotencyConflictError', 'RuleError', 'LimitExceededError',
  'AccessDeniedError', 'UnknownScopeError', 'AlreadyOpenError', 'ReadOnlyError',
  'UpgradeRequiredError', 'CorruptError', 'StorageError', 'ImportError', 'InternalError',
];
const errors = { AutocrmError };
for (const name of ERROR_CLASSES) {
  // A computed key names the class, so `err.name` and stack traces show it.
  errors[name] = { [name]: class extends AutocrmError {} }[name];
}

const MARKER = '\u0001autocrm:';

/** The JS error for a native one: an AutocrmError subclass, a TypeError or a RangeError. */
function mapError(e) {
  if (!(e instanceof Error) || typeof e.message !== 'string') return e;
  if (!e.message.startsWith(MARKER)) {
    // napi-rs's own catch_unwind (a panic in a synchronous call) reports GenericFailure with
    // the panic message: a bug in autocrm, reported as core reports one.
    if (e.code === 'GenericFailure') {
      return new errors.InternalError(`internal error (a bug in autocrm): ${e.message}`, { code: 'internal' });
    }
    // napi-rs's own argument conversion (a string where a number belongs, a missing argument).
    if (typeof e.code === 'string' && (e.code.endsWith('Expected') || e.code === 'InvalidArg')) {
      return new TypeError(e.message);
    }
    return e;
  }
  let info;
  try {
    info = JSON.parse(e.message.slice(MARKER.length));
  } catch {
    return e;
  }
  if (info.class === 'TypeError') return new TypeError(info.message);
  if (info.class === 'RangeError') return new RangeError(info.message);
  const Cls = errors[info.class] || errors.InternalError;
  return new Cls(info.message, info);
}

function call(f) {
  try {
    return f();
  } catch (e) {
    throw mapError(e);
  }
}

async function callAsync(f) {
  try {
    return await f();
  } catch (e) {
    throw mapError(e);
  }
}

// ------------------------------------------------------------------------------------------
// Values

/** Dates become ISO strings of their UTC fields (the convention: see README, "Dates"). */
function prep(v) {
  if (v === undefined || v === null) return v ?? undefined;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new RangeError('invalid Date');
    return v.toISOString().slice(0, 19);
  }
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : prep(x)));
  if (typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = prep(x);
    return o;
  }
  return v;
}

/** A calendar date as the Date autocrm returns for it: UTC midnight. */
function date(y, m, d) {
  return new Date(Date.UTC(y, m - 1, d));
}

/** A naive local date-time as autocrm returns it: its wall-clock fields as UTC fields. */
function localTime(y, m, d, hh = 0, mm = 0, ss = 0) {
  return new Date(Date.UTC(y, m - 1, d, hh, mm, ss));
}

/**
 * A large read result the native module hands over as JSON text (`[value, dates]`, see
 * src/value.rs `Json`): one JSON.parse is much cheaper than creating each property through
 * N-API. Each date was written as 0 and is listed as `[...path, milliseconds]`.
 */
function fromJson(r) {
  if (typeof r !== 'string') return r;
  const [value, dates] = JSON.parse(r);
  let root = value;
  for (const p of dates) {
    const last = p.length - 2;
    if (last < 0) {
      root = new Date(p[0]);
      continue;
    }
    let o = root;
    for (let i = 0; i < last; i++) o = o[p[i]];
    o[p[last]] = new Date(p[last + 1]);
  }
  return root;
}

/** Methods whose native result is JSON text (fromJson). */
const JSON_METHODS = new Set(['customer360', 'timeline']);

function ident(x) {
  if (typeof x === 'bigint') return Number(x);
  return x;
}

// ------------------------------------------------------------------------------------------
// Transactions

const WRITE_METHODS = [
  'insertDealer', 'insertCustomer', 'updateCustomer', 'insertVehicle', 'transferVehicle',
  'insertTouchpoint', 'insertLead', 'insertComplaint', 'insertSurvey', 'recordConsent',
  'joinBrandClub', 'joinDealerClub', 'setLoyaltyConfig', 'redeem', 'adjust', 'reverse', 'saveSegment',
  'eraseCustomer', 'relate', 'resolveConflict', 'insertCustomers', 'insertTouchpoints',
  'deleteTouchpoint', 'expireLots', 'reviewTiers', 'deleteCustomer', 'updateVehicle',
  'updateLead', 'advanceComplaint', 'respondToComplaint', 'materialiseSegment', 'insertLeads',
  'insertComplaints', 'insertSurveys', 'registerConsumer', 'unregisterConsumer', 'acknowledge',
  'setChangeRetention', 'disableChangeFeed', 'pruneChanges', 'upsertCustomer', 'upsertVehicle',
  'setSources', 'registerSource', 'setSourcePriority', 'clearFeedback', 'mergeCustomers',
  'setTierFloor', 'unrelate', 'insertVehicles',
];
/** Per-transaction settings: on a transaction only (the Database forms would be no-ops). */
const TX_ONLY_WRITE_METHODS = ['setActor', 'setSource'];

const READ_METHODS = [
  'customer', 'dealer', 'dealerByCode', 'dealers', 'vehicle', 'vehicleByVin', 'vehicleByPlate',
  'vehiclesOf', 'touchpoint', 'findCustomers', 'customersByPhone', 'customer360', 'timeline',
  'customerCount', 'balance', 'walletsOf', 'postingsOf', 'postingByKey', 'membership',
  'tierStatus', 'verifyAudit', 'auditLog', 'lead', 'complaint', 'survey', 'consents', 'lineage',
  'conflicts', 'feedback', 'segmentNames', 'segment', 'materialised', 'segmentDiff',
  'complaintEscalations', 'verifyLedger', 'changes', 'lastChange', 'changeFeedEnabled',
  'changeRetention', 'consumers', 'consumerPosition', 'sources', 'lineageOfVehicle', 'conflict',
  'conflictsOf', 'openConflictCount', 'feedbackEntry', 'rejectionCounts', 'duplicatesOf',
  'resolveCustomer', 'mergesOf', 'loyaltyConfig', 'spendable', 'posting', 'tierHistory',
  'benefits', 'settlement', 'relationsOf', 'parseRule', 'erasure', 'erasures', 'leadsOf',
  'complaintsOf', 'surveysOf', 'rollup', 'vehicleCount', 'touchpointCount', 'customerIds',
  'customerByNationalId', 'customerByCreditCode', 'feedbackAll',
];

const ASYNC_READ_METHODS = ['kpi', 'evaluate', 'table'];
const ASYNC_UNSCOPED_METHODS = ['dueActions', 'duplicateCandidates', 'homeDealer', 'homeDealersTable'];

function forward(proto, names, { async = false } = {}) {
  for (const name of names) {
    Object.defineProperty(proto, name, {
      value: async
        ? function (...args) {
          return callAsync(() => this._n[name](...args.map((a) => prep(ident(a)))));
        }
        : JSON_METHODS.has(name)
          ? function (...args) {
            return fromJson(call(() => this._n[name](...args.map((a) => prep(ident(a))))));
          }
          : function (...args) {
            return call(() => this._n[name](...args.map((a) => prep(ident(a)))));
          },
      writable: true,
      configurable: true,
    });
  }
}

/**
 * The report shape of a caught error for `reject`: `{ code, message, field, hint }` of an
 * AutocrmError (or of a plain object shaped like one). Anything without a code — a TypeError,
 * a RangeError, a string — is not a rejection core can queue: a TypeError.
 */
function rejection(e) {
  if (e === null || typeof e !== 'object' || typeof e.code !== 'string' || e.code === '') {
    throw new TypeError('reject: error must be an AutocrmError (or { code, message, field?, hint? }) with a code');
  }
  return prep({ code: e.code, message: e.message, field: e.field ?? undefined, hint: e.hint ?? undefined });
}

/** A write transaction: see `Database.write`. */
class WriteTransaction {
  constructor(n) {
    this._n = n;
  }
  get finished() {
    return this._n.finished;
  }
  commit() {
    call(() => this._n.commit());
  }
  abort() {
    call(() => this._n.abort());
  }
  setDurable(flag) {
    call(() => this._n.setDurable(Boolean(flag)));
  }
  /**
   * Puts a rejected record into the sending dealer's feedback queue, keyed by its source
   * record: `error` is the AutocrmError caught for it (its code, field and message are kept;
   * the hint is core's for the code), `raw` the record as delivered; `opts` `{ dealer, line,
   * receivedAt }`. A later successful upsert of the source record removes the entry. Returns
   * the entry's id.
   */
  reject(kind, source, raw, error, opts) {
    const why = rejection(error);
    return call(() => this._n.reject(kind, prep(source), raw, why, prep(opts)));
  }
}
forward(WriteTransaction.prototype, [...WRITE_METHODS, ...TX_ONLY_WRITE_METHODS]);

/** A read snapshot: see `Database.read`. */
class ReadTransaction {
  constructor(n) {
    this._n = n;
  }
  close() {
    this._n.close();
  }
  /** Customers in segment rule `rule` as of `asOf`: `{ size, ids }`. */
  async segmentCount(rule, asOf) {
    return (await this.evaluate(rule, asOf)).size;
  }
}
forward(ReadTransaction.prototype, READ_METHODS);
forward(ReadTransaction.prototype, [...ASYNC_READ_METHODS, ...ASYNC_UNSCOPED_METHODS], { async: true });

/** A progress callback for the pool: an exception it throws is reported, never fatal. */
function progressFn(f) {
  if (f === undefined || f === null) return undefined;
  if (typeof f !== 'function') throw new TypeError('progress must be a function');
  return (p) => {
    try {
      f(p);
    } catch (e) {
      process.emitWarning(`autocrm: the import progress callback threw: ${e && e.message}`);
    }
  };
}

/** A batch argument: a Buffer or Uint8Array (a TypeError otherwise). */
function bytes(what, b) {
  if (Buffer.isBuffer(b)) return b;
  if (b instanceof Uint8Array) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  throw new TypeError(`${what}: expected a Buffer`);
}

function isThenable(x) {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof x.then === 'function';
}

// ------------------------------------------------------------------------------------------
// Scoped handle

const SCOPED_METHODS = [
  'find', 'customer360', 'timeline', 'addTouchpoint', 'recordConsent', 'redeem', 'erase',
  'updateMyContact', 'auditLog', 'verifyAudit', 'auditHead', 'flushAudit', 'addLead',
  'addComplaint', 'conflicts', 'resolveConflict', 'duplicates', 'merge', 'feedback',
  'qualityReport', 'myProfile', 'myVehicles', 'myHistory', 'myPoints', 'myTier', 'myBenefits',
  'myReminders', 'myConsents', 'setMyConsent', 'redeemMine', 'referFriend', 'roles', 'setRole',
  'changes',
];
const ASYNC_SCOPED_METHODS = ['evaluateSegment', 'dueActions'];

/** The database as one scope sees it: `db.as('dealer:SH0001', 'alice')`. */
class ScopedDatabase {
  constructor(n) {
    this._n = n;
  }
  get scope() {
    return this._n.scope;
  }
  async segmentCount(rule, asOf) {
    return (await this.evaluate(rule, asOf)).size;
  }
  /**
   * Imports a file as `Database.importFile` does, under this scope (needs `manage_data`; the
   * audit entry is appended before the first row is read).
   */
  importFile(file, opts = {}) {
    const { progress, ...rest } = opts;
    return callAsync(() => this._n.import(String(file), prep(rest), progressFn(progress)));
  }
  /**
   * `Database.exportLake` as this scope sees it (needs `export`): its rows, masked, the
   * manifest naming the scope; audited as one export before the files get their final names.
   */
  exportLake(dir, opts) {
    return callAsync(() => this._n.exportLake(String(dir), prep(opts)));
  }
}
forward(ScopedDatabase.prototype, SCOPED_METHODS);
forward(ScopedDatabase.prototype, [...ASYNC_READ_METHODS, ...ASYNC_SCOPED_METHODS], { async: true });

// ------------------------------------------------------------------------------------------
// Database

/** An autocrm database: one file (or memory). Share one handle in a process. */
class Database {
  constructor(n) {
    if (!(n instanceof native.NativeDatabase)) {
      throw new TypeError('use Database.open(path) or Database.inMemory()');
    }
    this._n = n;
  }

  /**
   * Rewrites the closed file at `path` into a fresh file holding only its live records (off
   * the JS thread): run it after erasures so no erased byte stays on the disk.
   */
  static async vacuum(file) {
    await callAsync(() => native.vacuum(String(file)));
  }

  /** Opens (creating if missing) the file at `path`. */
  static open(file, opts) {
    return new Database(call(() => native.NativeDatabase.open(String(file), prep(opts))));
  }

  /** A new, empty in-memory database. */
  static inMemory(opts) {
    return new Database(call(() => native.NativeDatabase.inMemory(prep(opts))));
  }

  get path() {
    return this._n.path ?? null;
  }
  get closed() {
    return this._n.closed;
  }
  close() {
    this._n.close();
  }
  now() {
    return call(() => this._n.now());
  }
  check() {
    return call(() => this._n.check());
  }
  flushAudit() {
    call(() => this._n.flushAudit());
  }
  /** Rewrites the file so it holds only live data (off the JS thread); whether anything moved. */
  compact() {
    return callAsync(() => this._n.compact());
  }

  /**
   * Runs `fn(tx)` in one write transaction: commits when it returns, rolls back when it throws.
   * `fn` must be synchronous (as in better-sqlite3): one write transaction at a time.
   */
  write(fn) {
    if (typeof fn !== 'function') throw new TypeError('db.write(fn): fn must be a function');
    const tx = new WriteTransaction(call(() => this._n.write()));
    let result;
    try {
      result = fn(tx);
    } catch (e) {
      if (!tx.finished) tx.abort();
      throw e;
    }
    if (isThenable(result)) {
      if (!tx.finished) tx.abort();
      throw new TypeError('db.write(fn): fn must be synchronous (it returned a promise); the transaction was rolled back');
    }
    if (!tx.finished) tx.commit();
    return result;
  }

  /**
   * Runs `fn(r)` on one consistent snapshot and releases it afterwards (after the promise
   * settles if `fn` returns one: analytics on `r` share one facts snapshot).
   */
  read(fn) {
    if (typeof fn !== 'function') throw new TypeError('db.read(fn): fn must be a function');
    const r = new ReadTransaction(call(() => this._n.read()));
    let result;
    try {
      result = fn(r);
    } catch (e) {
      r.close();
      throw e;
    }
    if (isThenable(result)) return Promise.resolve(result).finally(() => r.close());
    r.close();
    return result;
  }

  /** This database as `scope` (`hq:<role>`, `dealer:<code>`, `owner:<customer id>`) sees it. */
  as(scope, actor, opts = {}) {
    return new ScopedDatabase(call(() => this._n.scoped(String(scope), String(actor), opts.purpose ?? undefined)));
  }

  /**
   * Writes the whole store as Parquet files under `dir` (off the JS thread): one folder per
   * table, touchpoints partitioned by month, `_manifest.json` last (docs/export.md).
   * Resolves to the report; a folder that is neither empty nor an earlier export rejects with
   * `InvalidOperationError` (`invalid_operation.export_target_not_empty`), nothing written.
   */
  exportLake(dir, opts) {
    return callAsync(() => this._n.exportLake(String(dir), prep(opts)));
  }

  /** Loads a seeded synthetic dealer network (off the JS thread). */
  generate(opts) {
    return callAsync(() => this._n.generate(prep(opts)));
  }

  /**
   * Imports a CSV / JSON Lines file (off the JS thread); resolves to the import report.
   * `opts.progress({ rows, bytes, totalBytes })` is called after each committed batch.
   */
  importFile(file, opts = {}) {
    const { progress, ...rest } = opts;
    return callAsync(() => this._n.import(String(file), undefined, prep(rest), progressFn(progress)));
  }

  // Replicas that sync with HQ (core/src/sync, docs/sync.md): batches travel as Buffers.

  /** On HQ's file: registers replica `name` with scope `dealer:<code>` or `owner:<id>`. */
  registerReplica(name, scope) {
    call(() => this._n.registerReplica(String(name), String(scope)));
  }

  /** Makes this empty file replica `name` of HQ with `scope` (as HQ registered it). */
  initReplica(name, scope) {
    call(() => this._n.initReplica(String(name), String(scope)));
  }

  /** On a replica: its changes HQ has not confirmed, as a Buffer for HQ's `syncServe`. */
  syncPush() {
    return call(() => this._n.syncPush());
  }

  /** On HQ's file (off the JS thread): applies a replica's Buffer; `{ batch, report }`. */
  syncServe(up) {
    return callAsync(() => this._n.syncServe(bytes('syncServe', up)));
  }

  /** On a replica (off the JS thread): applies HQ's answer Buffer; the report. */
  syncPull(down) {
    return callAsync(() => this._n.syncPull(bytes('syncPull', down)));
  }

  /**
   * On a replica (off the JS thread): round trips with `hq` (another open Database) until HQ
   * has nothing more, at most `maxRounds` (default 100); `{ served, pulled }`.
   */
  syncWith(hq, maxRounds) {
    if (!(hq instanceof Database)) return Promise.reject(new TypeError('syncWith(hq): hq must be a Database'));
    return callAsync(() => this._n.syncWith(hq._n, maxRounds ?? undefined));
  }

  /** On a replica: `{ name, scope, pending, pendingSensitive, copied, position }`. */
  syncStatus() {
    return call(() => this._n.syncStatus());
  }

  /** On HQ's file: the replicas it has registered, `[{ name, scope, applied, syncs }]`. */
  replicas() {
    return call(() => this._n.replicas());
  }

  /** Imports in-memory data (a Buffer or string) as if it were the file `name`. */
  importBuffer(data, name = 'input.csv', opts = {}) {
    const { progress, ...rest } = opts;
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
    return callAsync(() => this._n.import(String(name), buf, prep(rest), progressFn(progress)));
  }
}

for (const name of [...WRITE_METHODS, 'reject']) {
  Object.defineProperty(Database.prototype, name, {
    value(...args) {
      return this.write((tx) => tx[name](...args));
    },
    writable: true,
    configurable: true,
  });
}
for (const name of READ_METHODS) {
  Object.defineProperty(Database.prototype, name, {
    value(...args) {
      return this.read((r) => r[name](...args));
    },
    writable: true,
    configurable: true,
  });
}
for (const name of [...ASYNC_READ_METHODS, ...ASYNC_UNSCOPED_METHODS, 'segmentCount']) {
  Object.defineProperty(Database.prototype, name, {
    // A promise-returning method never throws: opening the snapshot fails as a rejection.
    value(...args) {
      try {
        return this.read((r) => r[name](...args));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    writable: true,
    configurable: true,
  });
}

module.exports = {
  Database,
  WriteTransaction,
  ReadTransaction,
  ScopedDatabase,
  ...errors,
  date,
  localTime,
  /** @internal test hook: a panic inside the native module (sync, or on the pool). */
  _forcePanic: (inPool) => (inPool ? callAsync(() => native.forcePanic(true)) : call(() => native.forcePanic(false))),
};
