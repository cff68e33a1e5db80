/**
 * OpenRTB 2.6 bid request and response types: the fields this bidder reads or writes.
 * Everything is optional unless the specification makes it a MUST; unknown fields and
 * `ext` objects are tolerated everywhere and passed over untouched.
 */

export type Ext = Record<string, unknown>;

export interface Format {
  w?: number;
  h?: number;
  wratio?: number;
  hratio?: number;
  wmin?: number;
  ext?: Ext;
}

export interface Banner {
  format?: Format[];
  w?: number;
  h?: number;
  btype?: number[];
  battr?: number[];
  pos?: number;
  mimes?: string[];
  api?: number[];
  id?: string;
  ext?: Ext;
}

export interface Video {
  mimes?: string[];
  minduration?: number;
  maxduration?: number;
  protocols?: number[];
  protocol?: number;
  w?: number;
  h?: number;
  startdelay?: number;
  plcmt?: number;
  placement?: number;
  linearity?: number;
  skip?: number;
  battr?: number[];
  api?: number[];
  ext?: Ext;
}

export interface Audio {
  mimes?: string[];
  minduration?: number;
  maxduration?: number;
  protocols?: number[];
  battr?: number[];
  ext?: Ext;
}

export interface Native {
  /** The native markup request: a JSON string (1.0-1.2 payload) per the spec. */
  request?: string;
  ver?: string;
  api?: number[];
  battr?: number[];
  ext?: Ext;
}

export interface Deal {
  id: string;
  bidfloor?: number;
  bidfloorcur?: string;
  at?: number;
  wseat?: string[];
  wadomain?: string[];
  ext?: Ext;
}

export interface Pmp {
  private_auction?: number;
  deals?: Deal[];
  ext?: Ext;
}

export interface Imp {
  id: string;
  banner?: Banner;
  video?: Video;
  audio?: Audio;
  native?: Native;
  pmp?: Pmp;
  tagid?: string;
  bidfloor?: number;
  bidfloorcur?: string;
  instl?: number;
  secure?: number;
  exp?: number;
  ext?: Ext;
}

export interface Publisher {
  id?: string;
  name?: string;
  cat?: string[];
  domain?: string;
  ext?: Ext;
}

export interface Content {
  id?: string;
  cat?: string[];
  language?: string;
  ext?: Ext;
}

export interface Site {
  id?: string;
  name?: string;
  domain?: string;
  cat?: string[];
  sectioncat?: string[];
  pagecat?: string[];
  page?: string;
  ref?: string;
  publisher?: Publisher;
  content?: Content;
  ext?: Ext;
}

export interface App {
  id?: string;
  name?: string;
  bundle?: string;
  domain?: string;
  storeurl?: string;
  cat?: string[];
  sectioncat?: string[];
  pagecat?: string[];
  publisher?: Publisher;
  content?: Content;
  ext?: Ext;
}

/** Digital out-of-home inventory (2.6); a request carries at most one of site, app, dooh. */
export interface Dooh {
  id?: string;
  name?: string;
  domain?: string;
  venuetype?: string[];
  venuetypetax?: number;
  publisher?: Publisher;
  content?: Content;
  ext?: Ext;
}

export interface Geo {
  lat?: number;
  lon?: number;
  type?: number;
  country?: string;
  region?: string;
  metro?: string;
  city?: string;
  zip?: string;
  utcoffset?: number;
  ext?: Ext;
}

export interface Device {
  ua?: string;
  geo?: Geo;
  dnt?: number;
  lmt?: number;
  ip?: string;
  ipv6?: string;
  devicetype?: number;
  make?: string;
  model?: string;
  os?: string;
  osv?: string;
  w?: number;
  h?: number;
  language?: string;
  carrier?: string;
  connectiontype?: number;
  ifa?: string;
  ext?: Ext;
}

export interface Segment {
  id?: string;
  name?: string;
  value?: string;
  ext?: Ext;
}

export interface Data {
  id?: string;
  name?: string;
  segment?: Segment[];
  ext?: Ext;
}

export interface User {
  id?: string;
  buyeruid?: string;
  yob?: number;
  gender?: string;
  keywords?: string;
  geo?: Geo;
  data?: Data[];
  ext?: Ext;
}

export interface Source {
  fd?: number;
  tid?: string;
  pchain?: string;
  ext?: Ext;
}

export interface Regs {
  coppa?: number;
  gdpr?: number;
  us_privacy?: string;
  ext?: Ext;
}

export interface BidRequest {
  id: string;
  imp: Imp[];
  site?: Site;
  app?: App;
  dooh?: Dooh;
  device?: Device;
  user?: User;
  test?: number;
  /** Auction type: 1 first price, 2 second price plus. */
  at?: number;
  /** Maximum time in milliseconds the exchange allows for bids, including network. */
  tmax?: number;
  wseat?: string[];
  bseat?: string[];
  allimps?: number;
  cur?: string[];
  wlang?: string[];
  wlangb?: string[];
  bcat?: string[];
  cattax?: number;
  badv?: string[];
  bapp?: string[];
  source?: Source;
  regs?: Regs;
  ext?: Ext;
}

/** Creative markup type of a bid (OpenRTB 2.6 `mtype`). */
export const enum MarkupType {
  Banner = 1,
  Video = 2,
  Audio = 3,
  Native = 4,
}

export interface Bid {
  id: string;
  impid: string;
  price: number;
  nurl?: string;
  burl?: string;
  lurl?: string;
  adm?: string;
  adid?: string;
  adomain?: string[];
  bundle?: string;
  iurl?: string;
  cid?: string;
  crid?: string;
  cat?: string[];
  attr?: number[];
  dealid?: string;
  w?: number;
  h?: number;
  mtype?: number;
  dur?: number;
  ext?: Ext;
}

export interface SeatBid {
  bid: Bid[];
  seat?: string;
  group?: number;
  ext?: Ext;
}

export interface BidResponse {
  id: string;
  seatbid?: SeatBid[];
  bidid?: string;
  cur?: string;
  nbr?: number;
  ext?: Ext;
}
