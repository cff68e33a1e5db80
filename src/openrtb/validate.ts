/**
 * OpenRTB 2.5/2.6 bid request validation: the MUSTs of the specification plus the types of
 * the fields this bidder reads, checked by hand (no schema library) because it runs for
 * every request. The happy path allocates nothing: field paths and messages are built only
 * once something is wrong, and the first problem found is the one reported.
 *
 * Deliberately tolerant, because real exchanges send these (see the corpus test):
 * - unknown fields anywhere; `ext` is never inspected;
 * - `null` for an optional field means absent (Go exchanges emit `null` for nil slices);
 *   it is rewritten to `undefined` so downstream code sees one shape of "absent";
 * - an imp with none of banner/video/audio/native (the spec makes none of them a MUST;
 *   such an imp simply cannot be bid on);
 * - `native.request` as an object instead of the specified JSON string (re-encoded to a
 *   string, so readers see the type the spec promises);
 * - currency codes in lower case.
 *
 * Rules on value domains: a JS type mismatch is INVALID_TYPE; the right type with a value
 * outside its domain (negative floor, fractional tmax, 2-letter currency) is INVALID_VALUE.
 */
import { requestError, type ErrorCode, type RequestError } from '../errors';
import { excerpt } from './excerpt';

/** More impressions than any real placement sends; bounds per-request work. */
export const MAX_IMPS = 100;

// Field kinds. Kept as small ints so a field spec is two parallel arrays.
const K_STR = 1;
const K_NUM = 2; // finite number
const K_NONNEG = 3; // finite number >= 0
const K_INT = 4;
const K_POSINT = 5; // integer > 0
const K_CUR = 6; // 3-letter currency code
const K_STR_ARR = 7;
const K_INT_ARR = 8;
const K_CUR_ARR = 9;
const K_OBJ = 10; // plain object, contents not inspected here
const K_OBJ_ARR = 11; // array of plain objects, contents not inspected here

interface FieldSpec {
  /** In the order problems are looked for, and so reported. */
  readonly keys: readonly string[];
  readonly kinds: readonly number[];
  /**
   * The same, by name, for the pass in the object's own key order (checkFields). A
   * prototype-less object, so that names such as `constructor` or `__proto__` find nothing:
   * looking a name up in it is cheaper than in a Map (an inline-cached property load).
   */
  readonly kindOf: Readonly<Record<string, number | undefined>>;
}

function spec(fields: Record<string, number>): FieldSpec {
  const kindOf = Object.assign(Object.create(null) as Record<string, number>, fields);
  return { keys: Object.keys(fields), kinds: Object.values(fields), kindOf };
}

const KIND_EXPECT: Record<number, string> = {
  [K_STR]: 'a string',
  [K_NUM]: 'a number',
  [K_NONNEG]: 'a non-negative number',
  [K_INT]: 'an integer',
  [K_POSINT]: 'a positive integer',
  [K_CUR]: 'a 3-letter currency code',
  [K_STR_ARR]: 'an array of strings',
  [K_INT_ARR]: 'an array of integers',
  [K_CUR_ARR]: 'an array of 3-letter currency codes',
  [K_OBJ]: 'an object',
  [K_OBJ_ARR]: 'an array of objects',
};

const REQUEST_FIELDS = spec({
  test: K_INT,
  at: K_INT,
  tmax: K_POSINT,
  wseat: K_STR_ARR,
  bseat: K_STR_ARR,
  allimps: K_INT,
  cur: K_CUR_ARR,
  wlang: K_STR_ARR,
  wlangb: K_STR_ARR,
  bcat: K_STR_ARR,
  cattax: K_INT,
  badv: K_STR_ARR,
  bapp: K_STR_ARR,
});
const PUBLISHER_FIELDS = spec({ id: K_STR, name: K_STR, domain: K_STR, cat: K_STR_ARR, cattax: K_INT });
const CONTENT_FIELDS = spec({ id: K_STR, cat: K_STR_ARR, language: K_STR, cattax: K_INT, data: K_OBJ_ARR });
const SITE_FIELDS = spec({
  id: K_STR,
  name: K_STR,
  domain: K_STR,
  page: K_STR,
  ref: K_STR,
  cat: K_STR_ARR,
  sectioncat: K_STR_ARR,
  pagecat: K_STR_ARR,
  cattax: K_INT,
  publisher: K_OBJ,
  content: K_OBJ,
});
const APP_FIELDS = spec({
  id: K_STR,
  name: K_STR,
  bundle: K_STR,
  domain: K_STR,
  storeurl: K_STR,
  cat: K_STR_ARR,
  sectioncat: K_STR_ARR,
  pagecat: K_STR_ARR,
  cattax: K_INT,
  publisher: K_OBJ,
  content: K_OBJ,
});
const DOOH_FIELDS = spec({ id: K_STR, name: K_STR, domain: K_STR, publisher: K_OBJ, content: K_OBJ });
const GEO_FIELDS = spec({
  lat: K_NUM,
  lon: K_NUM,
  type: K_INT,
  country: K_STR,
  region: K_STR,
  metro: K_STR,
  city: K_STR,
  zip: K_STR,
  utcoffset: K_NUM,
});
const DEVICE_FIELDS = spec({
  ua: K_STR,
  ip: K_STR,
  ipv6: K_STR,
  dnt: K_INT,
  lmt: K_INT,
  devicetype: K_INT,
  make: K_STR,
  model: K_STR,
  os: K_STR,
  osv: K_STR,
  w: K_NUM,
  h: K_NUM,
  language: K_STR,
  carrier: K_STR,
  connectiontype: K_INT,
  ifa: K_STR,
  geo: K_OBJ,
  sua: K_OBJ,
});
const USER_FIELDS = spec({
  id: K_STR,
  buyeruid: K_STR,
  yob: K_INT,
  gender: K_STR,
  keywords: K_STR,
  geo: K_OBJ,
  data: K_OBJ_ARR,
  eids: K_OBJ_ARR,
});
const DATA_FIELDS = spec({ id: K_STR, name: K_STR, segment: K_OBJ_ARR });
const SOURCE_FIELDS = spec({ fd: K_INT, tid: K_STR, pchain: K_STR, schain: K_OBJ });
const REGS_FIELDS = spec({ coppa: K_INT, gdpr: K_INT, us_privacy: K_STR, gpp: K_STR });
const IMP_FIELDS = spec({
  tagid: K_STR,
  bidfloor: K_NONNEG,
  bidfloorcur: K_CUR,
  instl: K_INT,
  secure: K_INT,
  exp: K_INT,
  banner: K_OBJ,
  video: K_OBJ,
  audio: K_OBJ,
  native: K_OBJ,
  pmp: K_OBJ,
});
const FORMAT_FIELDS = spec({ w: K_NUM, h: K_NUM, wratio: K_NUM, hratio: K_NUM, wmin: K_NUM });
const BANNER_FIELDS = spec({
  format: K_OBJ_ARR,
  w: K_NUM,
  h: K_NUM,
  btype: K_INT_ARR,
  battr: K_INT_ARR,
  pos: K_INT,
  mimes: K_STR_ARR,
  api: K_INT_ARR,
  id: K_STR,
});
const VIDEO_FIELDS = spec({
  mimes: K_STR_ARR,
  minduration: K_INT,
  maxduration: K_INT,
  protocols: K_INT_ARR,
  protocol: K_INT,
  w: K_NUM,
  h: K_NUM,
  startdelay: K_INT,
  plcmt: K_INT,
  placement: K_INT,
  linearity: K_INT,
  skip: K_INT,
  battr: K_INT_ARR,
  api: K_INT_ARR,
});
const AUDIO_FIELDS = spec({
  mimes: K_STR_ARR,
  minduration: K_INT,
  maxduration: K_INT,
  protocols: K_INT_ARR,
  battr: K_INT_ARR,
  api: K_INT_ARR,
});
const NATIVE_FIELDS = spec({ ver: K_STR, api: K_INT_ARR, battr: K_INT_ARR });
const PMP_FIELDS = spec({ private_auction: K_INT, deals: K_OBJ_ARR });
const DEAL_FIELDS = spec({
  bidfloor: K_NONNEG,
  bidfloorcur: K_CUR,
  at: K_INT,
  wseat: K_STR_ARR,
  wadomain: K_STR_ARR,
});

// Where the last failed field check went wrong. One validation runs at a time per
// thread, so module state is safe and spares an allocation per field.
let badKey = '';
let badIndex = -1; // element index inside an array field, or -1
let badCode: ErrorCode = 'INVALID_TYPE';
let badDetail = '';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isCur(s: string): boolean {
  if (s.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    // Fold ASCII case: 'a'..'z' | 0x20 keeps letters, anything else falls out of range.
    const c = s.charCodeAt(i) | 0x20;
    if (c < 0x61 || c > 0x7a) return false;
  }
  return true;
}

/** Checks one scalar against a kind; returns 0 when fine, else the error code to report. */
function checkScalar(v: unknown, kind: number): 0 | 'INVALID_TYPE' | 'INVALID_VALUE' {
  switch (kind) {
    case K_STR:
    case K_STR_ARR:
      return typeof v === 'string' ? 0 : 'INVALID_TYPE';
    case K_CUR:
    case K_CUR_ARR:
      if (typeof v !== 'string') return 'INVALID_TYPE';
      return isCur(v) ? 0 : 'INVALID_VALUE';
    case K_NUM:
      if (typeof v !== 'number') return 'INVALID_TYPE';
      return Number.isFinite(v) ? 0 : 'INVALID_VALUE';
    case K_NONNEG:
      if (typeof v !== 'number') return 'INVALID_TYPE';
      return Number.isFinite(v) && v >= 0 ? 0 : 'INVALID_VALUE';
    case K_INT:
    case K_INT_ARR:
      if (typeof v !== 'number') return 'INVALID_TYPE';
      return Number.isInteger(v) ? 0 : 'INVALID_VALUE';
    case K_POSINT:
      if (typeof v !== 'number') return 'INVALID_TYPE';
      return Number.isInteger(v) && v > 0 ? 0 : 'INVALID_VALUE';
    case K_OBJ:
    case K_OBJ_ARR:
      return isObj(v) ? 0 : 'INVALID_TYPE';
  }
  return 0;
}

function fail(key: string, index: number, code: ErrorCode, v: unknown, kind: number): false {
  badKey = key;
  badIndex = index;
  badCode = code;
  const expect = KIND_EXPECT[kind];
  if (index >= 0) {
    // An element of an array field: name what the element should have been.
    const elem = kind === K_OBJ_ARR ? 'an object' : kind === K_INT_ARR ? 'an integer' : kind === K_CUR_ARR ? 'a 3-letter currency code' : 'a string';
    badDetail = 'must be ' + elem + ', got ' + describe(v);
  } else {
    badDetail = 'must be ' + expect + ', got ' + describe(v);
  }
  return false;
}

/** A value for a message: client strings only as an excerpt (excerpt.ts), numbers as such. */
function describe(v: unknown): string {
  if (typeof v === 'string') return excerpt(v);
  if (typeof v === 'number') return String(v);
  return typeName(v);
}

/** Checks one optional field `key` of `o`, of value `v`: `null` is rewritten to absent. */
function checkField(o: Obj, key: string, kind: number, v: unknown): boolean {
  if (v === undefined) return true;
  if (v === null) {
    o[key] = undefined;
    return true;
  }
  if (kind >= K_STR_ARR && kind !== K_OBJ) {
    if (!Array.isArray(v)) return fail(key, -1, 'INVALID_TYPE', v, kind);
    for (let i = 0; i < v.length; i++) {
      const r = checkScalar(v[i], kind);
      if (r !== 0) return fail(key, i, r, v[i], kind);
    }
    return true;
  }
  const r = checkScalar(v, kind);
  return r === 0 ? true : fail(key, -1, r, v, kind);
}

/**
 * Checks the optional fields of `o` listed in `fs`; `null` is rewritten to absent.
 *
 * A spec lists every field we read (a device, 18), a real object carries a few of them,
 * and reading an absent name is a lookup like any other: so the check walks the object's
 * own keys (for-in over a parsed object reads each value straight from its slot) and
 * looks each name up in the spec. That order decides nothing when every field is right;
 * when one is wrong, the spec-order pass runs again from the start so that the problem
 * reported is the first in spec order, as it always was (test/openrtb/validate.test.ts
 * compares the two on random objects).
 */
function checkFields(o: Obj, fs: FieldSpec): boolean {
  const kindOf = fs.kindOf;
  for (const key in o) {
    const kind = kindOf[key];
    if (kind !== undefined && !checkField(o, key, kind, o[key])) return checkFieldsInSpecOrder(o, fs);
  }
  return true;
}

/** checkFields in the order of `fs`: the first wrong field in that order is the one reported. */
function checkFieldsInSpecOrder(o: Obj, fs: FieldSpec): boolean {
  const keys = fs.keys;
  const kinds = fs.kinds;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (!checkField(o, key, kinds[k], o[key])) return false;
  }
  return true;
}

/** The error for the last failed `checkFields`, with the full path built only now. */
function fieldError(prefix: string): RequestError {
  let path = prefix === '' ? badKey : prefix + '.' + badKey;
  if (badIndex >= 0) path += '[' + badIndex + ']';
  return requestError(badCode, path, badDetail);
}

function impPath(i: number, rest: string): string {
  return rest === '' ? 'imp[' + i + ']' : 'imp[' + i + '].' + rest;
}

function checkPublisherContent(o: Obj, prefix: string): RequestError | null {
  const pub = o.publisher;
  if (pub !== undefined && !checkFields(pub as Obj, PUBLISHER_FIELDS)) return fieldError(prefix + '.publisher');
  const content = o.content;
  if (content !== undefined && !checkFields(content as Obj, CONTENT_FIELDS)) return fieldError(prefix + '.content');
  return null;
}

function checkGeo(o: Obj, prefix: string): RequestError | null {
  const geo = o.geo;
  if (geo !== undefined && !checkFields(geo as Obj, GEO_FIELDS)) return fieldError(prefix + '.geo');
  return null;
}

function checkImp(imp: Obj, i: number): RequestError | null {
  const id = imp.id;
  if (id === undefined || id === null) return requestError('MISSING_FIELD', impPath(i, 'id'), 'imp id is required');
  if (typeof id !== 'string') return requestError('INVALID_TYPE', impPath(i, 'id'), 'must be a string, got ' + describe(id));
  if (id.length === 0) return requestError('INVALID_VALUE', impPath(i, 'id'), 'must be a non-empty string');
  if (!checkFields(imp, IMP_FIELDS)) return fieldError(impPath(i, ''));

  const banner = imp.banner as Obj | undefined;
  if (banner !== undefined) {
    if (!checkFields(banner, BANNER_FIELDS)) return fieldError(impPath(i, 'banner'));
    const format = banner.format as Obj[] | undefined;
    if (format !== undefined) {
      for (let j = 0; j < format.length; j++) {
        if (!checkFields(format[j], FORMAT_FIELDS)) return fieldError(impPath(i, 'banner.format[' + j + ']'));
      }
    }
  }
  const video = imp.video as Obj | undefined;
  if (video !== undefined && !checkFields(video, VIDEO_FIELDS)) return fieldError(impPath(i, 'video'));
  const audio = imp.audio as Obj | undefined;
  if (audio !== undefined && !checkFields(audio, AUDIO_FIELDS)) return fieldError(impPath(i, 'audio'));
  const native = imp.native as Obj | undefined;
  if (native !== undefined) {
    if (!checkFields(native, NATIVE_FIELDS)) return fieldError(impPath(i, 'native'));
    const r = native.request;
    // The spec says a JSON string; some exchanges send the decoded object. Both carry the same payload.
    // Re-encoding the object keeps `Native.request` a string for every reader downstream.
    if (r === null) native.request = undefined;
    else if (isObj(r)) native.request = JSON.stringify(r);
    else if (r !== undefined && typeof r !== 'string') {
      return requestError('INVALID_TYPE', impPath(i, 'native.request'), 'must be a JSON string or an object, got ' + describe(r));
    }
  }
  const pmp = imp.pmp as Obj | undefined;
  if (pmp !== undefined) {
    if (!checkFields(pmp, PMP_FIELDS)) return fieldError(impPath(i, 'pmp'));
    const deals = pmp.deals as Obj[] | undefined;
    if (deals !== undefined) {
      for (let j = 0; j < deals.length; j++) {
        const deal = deals[j];
        const did = deal.id;
        if (did === undefined || did === null) {
          return requestError('MISSING_FIELD', impPath(i, 'pmp.deals[' + j + '].id'), 'deal id is required');
        }
        if (typeof did !== 'string') {
          return requestError('INVALID_TYPE', impPath(i, 'pmp.deals[' + j + '].id'), 'must be a string, got ' + describe(did));
        }
        if (did.length === 0) {
          return requestError('INVALID_VALUE', impPath(i, 'pmp.deals[' + j + '].id'), 'must be a non-empty string');
        }
        if (!checkFields(deal, DEAL_FIELDS)) return fieldError(impPath(i, 'pmp.deals[' + j + ']'));
      }
    }
  }
  return null;
}

/** Few imps are the norm: a pairwise scan beats building a Set until the count grows. */
const DUP_SCAN_SET_THRESHOLD = 16;

function findDuplicateImp(imps: Obj[]): number {
  const n = imps.length;
  if (n < 2) return -1;
  if (n <= DUP_SCAN_SET_THRESHOLD) {
    for (let i = 1; i < n; i++) {
      const id = imps[i].id;
      for (let j = 0; j < i; j++) if (imps[j].id === id) return i;
    }
    return -1;
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < n; i++) {
    const id = imps[i].id;
    if (seen.has(id)) return i;
    seen.add(id);
  }
  return -1;
}

/**
 * Validates a parsed bid request. Returns null when it is a valid BidRequest (and may have
 * rewritten `null` optional fields to `undefined`), else the first problem found.
 */
export function validateBidRequest(req: unknown): RequestError | null {
  if (!isObj(req)) {
    return requestError('INVALID_TYPE', undefined, 'request must be a JSON object, got ' + typeName(req));
  }
  const id = req.id;
  if (id === undefined || id === null) return requestError('MISSING_FIELD', 'id', 'request id is required');
  if (typeof id !== 'string') return requestError('INVALID_TYPE', 'id', 'must be a string, got ' + describe(id));
  if (id.length === 0) return requestError('INVALID_VALUE', 'id', 'must be a non-empty string');

  const imps = req.imp;
  if (imps === undefined || imps === null) return requestError('MISSING_FIELD', 'imp', 'imp is required');
  if (!Array.isArray(imps)) return requestError('INVALID_TYPE', 'imp', 'must be an array, got ' + typeName(imps));
  if (imps.length === 0) return requestError('EMPTY_IMP', 'imp', 'must contain at least one impression');
  if (imps.length > MAX_IMPS) {
    return requestError('TOO_MANY_IMPS', 'imp', 'at most ' + MAX_IMPS + ' impressions, got ' + imps.length);
  }

  if (!checkFields(req, REQUEST_FIELDS)) return fieldError('');

  // 2.5 §3.2.13/3.2.14 and 2.6 §3.2.13: a request must not contain more than one of site, app, dooh.
  let err: RequestError | null;
  const site = req.site;
  const app = req.app;
  const dooh = req.dooh;
  if (site === null) req.site = undefined;
  if (app === null) req.app = undefined;
  if (dooh === null) req.dooh = undefined;
  const hasSite = site !== undefined && site !== null;
  const hasApp = app !== undefined && app !== null;
  const hasDooh = dooh !== undefined && dooh !== null;
  if (hasSite && hasApp) return requestError('SITE_AND_APP', 'app', 'must not be present together with site');
  if (hasDooh && (hasSite || hasApp)) {
    return requestError('SITE_AND_APP', 'dooh', 'must not be present together with ' + (hasSite ? 'site' : 'app'));
  }
  if (hasSite) {
    if (!isObj(site)) return requestError('INVALID_TYPE', 'site', 'must be an object, got ' + typeName(site));
    if (!checkFields(site, SITE_FIELDS)) return fieldError('site');
    if ((err = checkPublisherContent(site, 'site')) !== null) return err;
  } else if (hasApp) {
    if (!isObj(app)) return requestError('INVALID_TYPE', 'app', 'must be an object, got ' + typeName(app));
    if (!checkFields(app, APP_FIELDS)) return fieldError('app');
    if ((err = checkPublisherContent(app, 'app')) !== null) return err;
  } else if (hasDooh) {
    if (!isObj(dooh)) return requestError('INVALID_TYPE', 'dooh', 'must be an object, got ' + typeName(dooh));
    if (!checkFields(dooh, DOOH_FIELDS)) return fieldError('dooh');
    if ((err = checkPublisherContent(dooh, 'dooh')) !== null) return err;
  }

  const device = req.device;
  if (device !== undefined && device !== null) {
    if (!isObj(device)) return requestError('INVALID_TYPE', 'device', 'must be an object, got ' + typeName(device));
    if (!checkFields(device, DEVICE_FIELDS)) return fieldError('device');
    if ((err = checkGeo(device, 'device')) !== null) return err;
  } else if (device === null) req.device = undefined;

  const user = req.user;
  if (user !== undefined && user !== null) {
    if (!isObj(user)) return requestError('INVALID_TYPE', 'user', 'must be an object, got ' + typeName(user));
    if (!checkFields(user, USER_FIELDS)) return fieldError('user');
    if ((err = checkGeo(user, 'user')) !== null) return err;
    const data = user.data as Obj[] | undefined;
    if (data !== undefined) {
      for (let j = 0; j < data.length; j++) {
        if (!checkFields(data[j], DATA_FIELDS)) return fieldError('user.data[' + j + ']');
      }
    }
  } else if (user === null) req.user = undefined;

  const source = req.source;
  if (source !== undefined && source !== null) {
    if (!isObj(source)) return requestError('INVALID_TYPE', 'source', 'must be an object, got ' + typeName(source));
    if (!checkFields(source, SOURCE_FIELDS)) return fieldError('source');
  } else if (source === null) req.source = undefined;

  const regs = req.regs;
  if (regs !== undefined && regs !== null) {
    if (!isObj(regs)) return requestError('INVALID_TYPE', 'regs', 'must be an object, got ' + typeName(regs));
    if (!checkFields(regs, REGS_FIELDS)) return fieldError('regs');
  } else if (regs === null) req.regs = undefined;

  for (let i = 0; i < imps.length; i++) {
    const imp = imps[i];
    if (!isObj(imp)) return requestError('INVALID_TYPE', 'imp[' + i + ']', 'must be an object, got ' + typeName(imp));
    if ((err = checkImp(imp, i)) !== null) return err;
  }
  const dup = findDuplicateImp(imps as Obj[]);
  if (dup >= 0) {
    return requestError('DUPLICATE_IMP_ID', 'imp[' + dup + '].id', 'duplicate imp id ' + excerpt(imps[dup].id as string));
  }
  return null;
}
