/**
 * The scene of one request: who asks (country, city, device, browser or app) and what the
 * publisher's floors look like. Drawn first, so that the device, the inventory and the
 * impressions of a request agree with each other; and the device object built from it.
 */
import { Weighted, round4, type Draw, type Obj } from './draw';
import * as V from './vocab';

const COUNTRY = new Weighted(V.COUNTRIES, V.COUNTRIES.map((c) => c.weight));

export type Platform = 'iphone' | 'android' | 'ipad' | 'atab' | 'desktop' | 'ctv';
const PLATFORM = Weighted.of<Platform>([[22, 'iphone'], [28, 'android'], [4, 'ipad'], [3, 'atab'], [38, 'desktop'], [5, 'ctv']]);
/** Share of each platform's traffic that comes from apps rather than the web. */
const APP_SHARE: Record<Platform, number> = { iphone: 0.55, android: 0.55, ipad: 0.5, atab: 0.5, desktop: 0, ctv: 1 };

type Browser = 'win-chrome' | 'win-edge' | 'win-firefox' | 'mac-chrome' | 'mac-safari' | 'mac-firefox' | 'linux-chrome' | 'linux-firefox';
const DESKTOP_BROWSER = Weighted.of<Browser>([
  [40, 'win-chrome'], [12, 'win-edge'], [8, 'win-firefox'], [15, 'mac-chrome'], [14, 'mac-safari'], [3, 'mac-firefox'],
  [4, 'linux-chrome'], [4, 'linux-firefox'],
]);

/**
 * Floors. A publisher sets its floors for the whole page or app, so the level is drawn once
 * per request (USD for a display slot, before the market tier) and each imp varies around
 * it by media and slot. Drawn per imp instead, a five-imp request would almost always hold
 * one cheap slot and bid, and the bid share would depend mostly on the imp count. The
 * weights are tuned against the sample campaigns for the shares in generator.ts's header.
 */
type FloorBand = readonly [lo: number, hi: number];
const FLOOR_LEVEL = Weighted.of<FloorBand>([[8, [0.05, 0.3]], [12, [0.3, 1]], [15, [1, 3]], [30, [3, 8]], [35, [8, 20]]]);
/** Share of euro-area publishers that floor in EUR (the bidder holds no EUR rate by default). */
const kEuroFloorShare = 0.35;
/** Share of requests from inventory sold only through deals. */
const kPmpOnlyShare = 0.18;

/** What the parts of one request must agree on. */
export interface Scene {
  country: V.Country;
  city: V.City;
  platform: Platform;
  app: boolean;
  ios: boolean;
  /** Screen size in CSS pixels, which interstitials and in-app video follow. */
  screenW: number;
  screenH: number;
  /** One Chrome version per request, shared by the UA, the structured UA and webviews. */
  chromeVersion: string;
  /** For imp tagids and gpids: the site domain or app bundle. */
  placement: string;
  iosStoreId: string;
  /** The publisher's display floor in USD, market tier applied. */
  floorLevel: number;
  /** The publisher's floor currency: euro-area publishers often floor in EUR. */
  floorCur: string;
  /** Premium inventory sold only through deals: every imp is a private auction. */
  pmpOnly: boolean;
  /** Native imps drawn so far: a page carries few native slots (and each is big). */
  natives: number;
}

export function scene(d: Draw): Scene {
  const country = COUNTRY.draw(d);
  const platform = PLATFORM.draw(d);
  const app = d.chance(APP_SHARE[platform]);
  const [lo, hi] = FLOOR_LEVEL.draw(d);
  return {
    country,
    city: d.pick(country.cities),
    platform,
    app,
    ios: platform === 'iphone' || platform === 'ipad',
    screenW: 0,
    screenH: 0,
    chromeVersion: d.pick(V.CHROME_VERSIONS),
    placement: '',
    iosStoreId: '',
    floorLevel: d.range(lo, hi, 4) * country.floorTier,
    floorCur: country.euro && d.chance(kEuroFloorShare) ? 'EUR' : 'USD',
    pmpOnly: d.chance(kPmpOnlyShare),
    natives: 0,
  };
}

function geo(d: Draw, s: Scene): Obj {
  const [region, city, lat, lon, zip] = s.city;
  const gps = s.app && d.chance(0.35);
  const g: Obj = {
    lat: round4(lat + d.range(-0.08, 0.08, 4)),
    lon: round4(lon + d.range(-0.08, 0.08, 4)),
    type: gps ? 1 : 2,
  };
  if (!gps) g.ipservice = 3;
  if (gps) g.accuracy = d.int(5, 60);
  g.country = s.country.code;
  g.region = region;
  g.city = city;
  g.zip = s.country.code === 'USA' ? zip + d.int(10, 99) : zip;
  g.utcoffset = s.country.utcoffset;
  return g;
}

function ipv4(d: Draw, s: Scene): string {
  const last = d.chance(0.6) ? 0 : d.int(1, 254); // many exchanges truncate the last octet
  return `${d.pick(s.country.ipFirst)}.${d.int(0, 255)}.${d.int(0, 255)}.${last}`;
}

/** Structured user agent (2.6 device.sua), as Chromium browsers report it. */
function sua(s: Scene, platform: string, platformVersion: string[], mobile: number, model?: string): Obj {
  const v = s.chromeVersion.split('.');
  const o: Obj = {
    browsers: [
      { brand: 'Chromium', version: v },
      { brand: 'Google Chrome', version: v },
      { brand: 'Not-A.Brand', version: ['99', '0', '0', '0'] },
    ],
    platform: { brand: platform, version: platformVersion },
    mobile,
  };
  if (model !== undefined) o.model = model;
  o.source = 2;
  return o;
}

export function device(d: Draw, s: Scene): Obj {
  let ua: string;
  let make: string;
  let model: string;
  let os: string;
  let osv: string;
  let suaObj: Obj | undefined;
  let devicetype: number; // List 5.21
  let chromium = false;
  const chrome = s.chromeVersion;
  const chromeMajor = chrome.slice(0, chrome.indexOf('.'));
  switch (s.platform) {
    case 'iphone':
    case 'ipad': {
      osv = d.pick(V.IOS_VERSIONS);
      const u = osv.replace(/\./g, '_');
      const sv = osv.split('.').slice(0, 2).join('.');
      const dev = s.platform === 'iphone' ? `iPhone; CPU iPhone OS ${u}` : `iPad; CPU OS ${u}`;
      const base = `Mozilla/5.0 (${dev} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)`;
      if (s.app) ua = `${base} Mobile/15E148`;
      else if (d.chance(0.15)) ua = `${base} CriOS/${chrome} Mobile/15E148 Safari/604.1`;
      else ua = `${base} Version/${sv} Mobile/15E148 Safari/604.1`;
      make = 'Apple';
      model = s.platform === 'iphone' ? 'iPhone' : 'iPad';
      os = 'iOS';
      [s.screenW, s.screenH] = d.pick(s.platform === 'iphone' ? V.IPHONE_SCREENS : V.IPAD_SCREENS);
      devicetype = s.platform === 'iphone' ? (d.chance(0.2) ? 1 : 4) : 5;
      break;
    }
    case 'android':
    case 'atab': {
      const phone = s.platform === 'android';
      const [mk, mdl, token, w, h] = d.pick(phone ? V.ANDROID_PHONES : V.ANDROID_TABLETS);
      const [av, build] = d.pick(V.ANDROID_VERSIONS);
      const mob = phone ? 'Mobile ' : '';
      if (s.app) {
        ua = `Mozilla/5.0 (Linux; Android ${av}; ${token} Build/${build}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chrome} ${mob}Safari/537.36`;
      } else {
        const b = d.f();
        if (b < 0.55) {
          // Chrome's reduced UA hides the model; the structured UA carries it.
          ua = `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor}.0.0.0 ${mob}Safari/537.36`;
          chromium = true;
        } else if (b < 0.8) {
          ua = `Mozilla/5.0 (Linux; Android ${av}; ${token}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} ${mob}Safari/537.36`;
          chromium = true;
        } else if (b < 0.92 && mk === 'Samsung') {
          ua = `Mozilla/5.0 (Linux; Android ${av}; SAMSUNG ${token}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 ${mob}Safari/537.36`;
        } else {
          const fx = d.pick(V.FIREFOX_VERSIONS);
          ua = `Mozilla/5.0 (Android ${av}; ${phone ? 'Mobile' : 'Tablet'}; rv:${fx}) Gecko/${fx} Firefox/${fx}`;
        }
        if (chromium && d.chance(0.6)) suaObj = sua(s, 'Android', [av, '0', '0'], phone ? 1 : 0, token);
      }
      make = mk;
      model = mdl;
      os = 'Android';
      osv = av;
      s.screenW = w;
      s.screenH = h;
      devicetype = phone ? (d.chance(0.2) ? 1 : 4) : 5;
      break;
    }
    case 'desktop': {
      const b = DESKTOP_BROWSER.draw(d);
      const fx = d.pick(V.FIREFOX_VERSIONS);
      const macv = d.pick(V.MACOS_VERSIONS);
      const win = 'Windows NT 10.0; Win64; x64';
      const mac = 'Macintosh; Intel Mac OS X 10_15_7'; // browsers freeze the macOS version in the UA
      const chromeTail = `AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor}.0.0.0 Safari/537.36`;
      switch (b) {
        case 'win-chrome': ua = `Mozilla/5.0 (${win}) ${chromeTail}`; break;
        case 'win-edge': ua = `Mozilla/5.0 (${win}) ${chromeTail} Edg/${chromeMajor}.0.2478.80`; break;
        case 'win-firefox': ua = `Mozilla/5.0 (${win}; rv:${fx}) Gecko/20100101 Firefox/${fx}`; break;
        case 'mac-chrome': ua = `Mozilla/5.0 (${mac}) ${chromeTail}`; break;
        case 'mac-safari': {
          const sv = d.pick(V.SAFARI_VERSIONS);
          ua = `Mozilla/5.0 (${mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${sv} Safari/605.1.15`;
          break;
        }
        case 'mac-firefox': ua = `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${fx}) Gecko/20100101 Firefox/${fx}`; break;
        case 'linux-chrome': ua = `Mozilla/5.0 (X11; Linux x86_64) ${chromeTail}`; break;
        default: ua = `Mozilla/5.0 (X11; Linux x86_64; rv:${fx}) Gecko/20100101 Firefox/${fx}`;
      }
      chromium = b.endsWith('chrome') || b === 'win-edge';
      if (b.startsWith('win')) {
        make = 'Generic';
        model = 'Windows PC';
        os = 'Windows';
        osv = d.chance(0.6) ? '10' : '11';
        if (chromium && d.chance(0.6)) suaObj = sua(s, 'Windows', [osv === '10' ? '10' : '15', '0', '0'], 0);
      } else if (b.startsWith('mac')) {
        make = 'Apple';
        model = 'Macintosh';
        os = 'macOS';
        osv = macv;
        if (chromium && d.chance(0.6)) suaObj = sua(s, 'macOS', macv.split('.'), 0);
      } else {
        make = 'Generic';
        model = 'Linux PC';
        os = 'Linux';
        osv = '6.5';
      }
      [s.screenW, s.screenH] = d.pick(V.DESKTOP_SCREENS);
      devicetype = 2;
      break;
    }
    default: {
      const [cua, mk, mdl, cos, cosv, dt] = d.pick(V.CTV_DEVICES);
      ua = cua;
      make = mk;
      model = mdl;
      os = cos;
      osv = cosv;
      s.screenW = 1920;
      s.screenH = 1080;
      devicetype = dt;
    }
  }

  const mobile = s.platform !== 'desktop' && s.platform !== 'ctv';
  const lmt = s.app && s.ios && d.chance(0.12) ? 1 : 0;
  const o: Obj = { ua };
  if (suaObj !== undefined) o.sua = suaObj;
  o.ip = ipv4(d, s);
  o.geo = geo(d, s);
  o.dnt = 0;
  o.lmt = lmt;
  o.devicetype = devicetype;
  o.make = make;
  o.model = model;
  o.os = os;
  o.osv = osv;
  if (s.ios && s.platform === 'iphone' && d.chance(0.5)) o.hwv = d.pick(['14', '15 Pro', '13', '15', '12 mini']);
  o.w = s.screenW;
  o.h = s.screenH;
  if (mobile) o.pxratio = s.ios ? 3 : d.pick([2, 2.625, 3]);
  o.js = 1;
  o.language = s.country.language;
  let ct: number;
  if (s.platform === 'desktop' || s.platform === 'ctv') ct = d.chance(0.3) ? 1 : 2;
  else ct = d.pick([2, 2, 2, 6, 6, 7, 3]);
  if (ct >= 3) {
    o.carrier = d.pick(s.country.carriers);
    o.mccmnc = `${d.int(200, 734)}-${d.int(1, 99).toString().padStart(2, '0')}`;
  }
  o.connectiontype = ct;
  if (s.app) {
    // iOS without tracking consent sends the all-zero IDFA; Android ids are lower case.
    o.ifa = lmt === 1 ? '00000000-0000-0000-0000-000000000000' : s.ios ? d.uuid().toUpperCase() : d.uuid();
  }
  return o;
}
