/**
 * The word lists the traffic generator draws from: countries with their cities, devices
 * and user agents, sites, apps, categories, deals. Kept apart from the generator so the
 * drawing logic reads as logic and the data can grow without touching it.
 *
 * Values are chosen against campaigns/sample-campaigns.json so that a realistic share of
 * generated requests bids: the targeted countries dominate, the campaign sizes are the
 * common ones, and the deal ids the sample deal campaigns hold are among the offered deals.
 * Names of sites, apps and companies are invented; formats (UAs, store URLs, IAB codes,
 * ISO regions) are the real ones.
 */

/** A city: ISO 3166-2 region code as exchanges send it, name, lat, lon, zip or postcode prefix. */
export type City = readonly [region: string, city: string, lat: number, lon: number, zip: string];

export interface Country {
  /** ISO-3166-1 alpha-3, as OpenRTB sends it. */
  code: string;
  /** Share of traffic, relative. */
  weight: number;
  language: string;
  /** Minutes from UTC (geo.utcoffset). */
  utcoffset: number;
  /** Floors scale with the market: 1 for the richest. */
  floorTier: number;
  /** In the euro area: some floors come in EUR. */
  euro: boolean;
  /** GDPR applies (EU/EEA and the UK). */
  gdpr: boolean;
  /** First octets of plausible IPv4 addresses. */
  ipFirst: readonly number[];
  carriers: readonly string[];
  cities: readonly City[];
  /** Local sites besides the global ones: domain and IAB category. */
  sites: readonly (readonly [domain: string, cat: string])[];
}

export const COUNTRIES: readonly Country[] = [
  {
    code: 'USA', weight: 34, language: 'en', utcoffset: -300, floorTier: 1, euro: false, gdpr: false,
    ipFirst: [24, 73, 98, 174, 71, 107], carriers: ['Verizon', 'T-Mobile', 'AT&T'],
    cities: [
      ['CA', 'Los Angeles', 34.05, -118.24, '900'], ['CA', 'San Francisco', 37.77, -122.42, '941'],
      ['TX', 'Houston', 29.76, -95.37, '770'], ['TX', 'Dallas', 32.78, -96.8, '752'],
      ['FL', 'Miami', 25.76, -80.19, '331'], ['NY', 'New York', 40.71, -74.01, '100'],
      ['IL', 'Chicago', 41.88, -87.63, '606'], ['WA', 'Seattle', 47.61, -122.33, '981'],
      ['GA', 'Atlanta', 33.75, -84.39, '303'], ['PA', 'Philadelphia', 39.95, -75.17, '191'],
      ['AZ', 'Phoenix', 33.45, -112.07, '850'], ['OH', 'Columbus', 39.96, -83.0, '432'],
      ['CO', 'Denver', 39.74, -104.99, '802'], ['MA', 'Boston', 42.36, -71.06, '021'],
    ],
    sites: [['dailyledger-news.com', 'IAB12'], ['gridironweekly.com', 'IAB17']],
  },
  {
    code: 'GBR', weight: 8, language: 'en', utcoffset: 60, floorTier: 1, euro: false, gdpr: true,
    ipFirst: [81, 86, 90, 2], carriers: ['EE', 'Vodafone UK', 'O2 - UK'],
    cities: [
      ['ENG', 'London', 51.51, -0.13, 'SW1'], ['ENG', 'Manchester', 53.48, -2.24, 'M1'],
      ['ENG', 'Birmingham', 52.49, -1.89, 'B1'], ['SCT', 'Glasgow', 55.86, -4.25, 'G1'],
      ['WLS', 'Cardiff', 51.48, -3.18, 'CF1'],
    ],
    sites: [['thamesherald.co.uk', 'IAB12'], ['pitchside.co.uk', 'IAB17']],
  },
  {
    code: 'DEU', weight: 7, language: 'de', utcoffset: 120, floorTier: 1, euro: true, gdpr: true,
    ipFirst: [84, 91, 93, 217], carriers: ['Telekom.de', 'Vodafone.de', 'o2 - de'],
    cities: [
      ['BE', 'Berlin', 52.52, 13.4, '101'], ['BY', 'München', 48.14, 11.58, '803'],
      ['HH', 'Hamburg', 53.55, 9.99, '203'], ['NW', 'Köln', 50.94, 6.96, '506'],
      ['HE', 'Frankfurt am Main', 50.11, 8.68, '603'],
    ],
    sites: [['tagesblick.de', 'IAB12'], ['autowelt-magazin.de', 'IAB2']],
  },
  {
    code: 'FRA', weight: 5, language: 'fr', utcoffset: 120, floorTier: 1, euro: true, gdpr: true,
    ipFirst: [82, 88, 90, 176], carriers: ['Orange F', 'SFR', 'Bouygues Telecom'],
    cities: [
      ['IDF', 'Paris', 48.86, 2.35, '750'], ['ARA', 'Lyon', 45.76, 4.84, '690'],
      ['PAC', 'Marseille', 43.3, 5.37, '130'], ['OCC', 'Toulouse', 43.6, 1.44, '310'],
    ],
    sites: [['lequotidien-info.fr', 'IAB12'], ['cuisine-et-saveurs.fr', 'IAB8']],
  },
  {
    code: 'CAN', weight: 4, language: 'en', utcoffset: -240, floorTier: 1, euro: false, gdpr: false,
    ipFirst: [99, 142, 184, 70], carriers: ['Rogers', 'Bell', 'TELUS'],
    cities: [
      ['ON', 'Toronto', 43.65, -79.38, 'M5V'], ['QC', 'Montréal', 45.5, -73.57, 'H2X'],
      ['BC', 'Vancouver', 49.28, -123.12, 'V6B'], ['AB', 'Calgary', 51.05, -114.07, 'T2P'],
    ],
    sites: [['northernstar-news.ca', 'IAB12']],
  },
  {
    code: 'BRA', weight: 5, language: 'pt', utcoffset: -180, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [177, 189, 201, 187], carriers: ['Vivo', 'Claro BR', 'TIM'],
    cities: [
      ['SP', 'São Paulo', -23.55, -46.63, '010'], ['RJ', 'Rio de Janeiro', -22.91, -43.17, '200'],
      ['MG', 'Belo Horizonte', -19.92, -43.94, '301'],
    ],
    sites: [['jornaldodia.com.br', 'IAB12'], ['golaco.com.br', 'IAB17']],
  },
  {
    code: 'IND', weight: 6, language: 'en', utcoffset: 330, floorTier: 0.5, euro: false, gdpr: false,
    ipFirst: [49, 106, 117, 157], carriers: ['Jio', 'Airtel', 'Vi India'],
    cities: [
      ['MH', 'Mumbai', 19.08, 72.88, '400'], ['DL', 'Delhi', 28.7, 77.1, '110'],
      ['KA', 'Bengaluru', 12.97, 77.59, '560'], ['TN', 'Chennai', 13.08, 80.27, '600'],
    ],
    sites: [['bharatdaily.in', 'IAB12'], ['cricketpulse.in', 'IAB17']],
  },
  {
    code: 'JPN', weight: 4, language: 'ja', utcoffset: 540, floorTier: 1, euro: false, gdpr: false,
    ipFirst: [60, 126, 153, 219], carriers: ['NTT DOCOMO', 'SoftBank', 'KDDI'],
    cities: [['13', 'Tokyo', 35.68, 139.69, '100'], ['27', 'Osaka', 34.69, 135.5, '530'], ['23', 'Nagoya', 35.18, 136.91, '450']],
    sites: [['sakura-shimbun.jp', 'IAB12']],
  },
  {
    code: 'MEX', weight: 3, language: 'es', utcoffset: -360, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [187, 189, 201], carriers: ['Telcel', 'AT&T MX', 'Movistar MX'],
    cities: [
      ['CMX', 'Ciudad de México', 19.43, -99.13, '060'], ['JAL', 'Guadalajara', 20.66, -103.35, '441'],
      ['NLE', 'Monterrey', 25.69, -100.32, '640'],
    ],
    sites: [['eldiario-mx.com', 'IAB12']],
  },
  {
    code: 'ESP', weight: 3, language: 'es', utcoffset: 120, floorTier: 0.8, euro: true, gdpr: true,
    ipFirst: [83, 88, 95], carriers: ['Movistar', 'Vodafone ES', 'Orange ES'],
    cities: [['MD', 'Madrid', 40.42, -3.7, '280'], ['CT', 'Barcelona', 41.39, 2.17, '080'], ['AN', 'Sevilla', 37.39, -5.98, '410']],
    sites: [['noticiasdehoy.es', 'IAB12']],
  },
  {
    code: 'ITA', weight: 3, language: 'it', utcoffset: 120, floorTier: 0.8, euro: true, gdpr: true,
    ipFirst: [79, 93, 151], carriers: ['TIM', 'Vodafone IT', 'WINDTRE'],
    cities: [['25', 'Milano', 45.46, 9.19, '201'], ['62', 'Roma', 41.9, 12.5, '001'], ['72', 'Napoli', 40.85, 14.27, '801']],
    sites: [['giornaleoggi.it', 'IAB12']],
  },
  {
    code: 'AUS', weight: 3, language: 'en', utcoffset: 600, floorTier: 1, euro: false, gdpr: false,
    ipFirst: [101, 110, 121], carriers: ['Telstra', 'Optus', 'Vodafone AU'],
    cities: [
      ['NSW', 'Sydney', -33.87, 151.21, '200'], ['VIC', 'Melbourne', -37.81, 144.96, '300'],
      ['QLD', 'Brisbane', -27.47, 153.03, '400'],
    ],
    sites: [['southerncross-news.com.au', 'IAB12']],
  },
  {
    code: 'RUS', weight: 2, language: 'ru', utcoffset: 180, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [5, 31, 95, 178], carriers: ['MTS', 'MegaFon', 'Beeline'],
    cities: [['MOW', 'Moscow', 55.76, 37.62, '101'], ['SPE', 'Saint Petersburg', 59.93, 30.34, '190']],
    sites: [['novosti-dnya.ru', 'IAB12']],
  },
  {
    code: 'NLD', weight: 2, language: 'nl', utcoffset: 120, floorTier: 1, euro: true, gdpr: true,
    ipFirst: [77, 84, 145], carriers: ['KPN', 'Vodafone NL', 'Odido'],
    cities: [['NH', 'Amsterdam', 52.37, 4.9, '101'], ['ZH', 'Rotterdam', 51.92, 4.48, '301']],
    sites: [['dagbladnu.nl', 'IAB12']],
  },
  {
    code: 'POL', weight: 1.5, language: 'pl', utcoffset: 120, floorTier: 0.6, euro: false, gdpr: true,
    ipFirst: [31, 83, 89], carriers: ['Orange PL', 'Play', 'Plus'],
    cities: [['14', 'Warszawa', 52.23, 21.01, '00-'], ['12', 'Kraków', 50.06, 19.94, '30-']],
    sites: [['wiadomosci-dnia.pl', 'IAB12']],
  },
  {
    code: 'SWE', weight: 1, language: 'sv', utcoffset: 120, floorTier: 1, euro: false, gdpr: true,
    ipFirst: [78, 83, 90], carriers: ['Telia', 'Tele2', 'Tre'],
    cities: [['AB', 'Stockholm', 59.33, 18.07, '111'], ['O', 'Göteborg', 57.71, 11.97, '411']],
    sites: [['dagensnytt.se', 'IAB12']],
  },
  {
    code: 'TUR', weight: 1.5, language: 'tr', utcoffset: 180, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [78, 88, 176], carriers: ['Turkcell', 'Vodafone TR', 'Türk Telekom'],
    cities: [['34', 'Istanbul', 41.01, 28.98, '344'], ['06', 'Ankara', 39.93, 32.86, '065']],
    sites: [['gundem-haber.com.tr', 'IAB12']],
  },
  {
    code: 'IDN', weight: 2, language: 'id', utcoffset: 420, floorTier: 0.5, euro: false, gdpr: false,
    ipFirst: [36, 110, 114], carriers: ['Telkomsel', 'Indosat', 'XL Axiata'],
    cities: [['JK', 'Jakarta', -6.21, 106.85, '101'], ['JI', 'Surabaya', -7.25, 112.75, '602']],
    sites: [['beritakini.co.id', 'IAB12']],
  },
  {
    code: 'PHL', weight: 1.5, language: 'en', utcoffset: 480, floorTier: 0.5, euro: false, gdpr: false,
    ipFirst: [49, 112, 175], carriers: ['Globe Telecom', 'Smart'],
    cities: [['00', 'Manila', 14.6, 120.98, '100'], ['CEB', 'Cebu City', 10.32, 123.89, '600']],
    sites: [['manila-bulletin-now.ph', 'IAB12']],
  },
  {
    code: 'KOR', weight: 1.5, language: 'ko', utcoffset: 540, floorTier: 0.8, euro: false, gdpr: false,
    ipFirst: [112, 175, 211], carriers: ['SK Telecom', 'KT', 'LG U+'],
    cities: [['11', 'Seoul', 37.57, 126.98, '045'], ['26', 'Busan', 35.18, 129.08, '481']],
    sites: [['hanbit-news.co.kr', 'IAB12']],
  },
  {
    code: 'ZAF', weight: 1, language: 'en', utcoffset: 120, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [41, 102, 105], carriers: ['Vodacom', 'MTN'],
    cities: [['GT', 'Johannesburg', -26.2, 28.05, '200'], ['WC', 'Cape Town', -33.92, 18.42, '800']],
    sites: [['capetimes-online.co.za', 'IAB12']],
  },
  {
    code: 'ARG', weight: 1, language: 'es', utcoffset: -180, floorTier: 0.6, euro: false, gdpr: false,
    ipFirst: [181, 186, 190], carriers: ['Personal', 'Claro AR', 'Movistar AR'],
    cities: [['C', 'Buenos Aires', -34.6, -58.38, 'C10'], ['X', 'Córdoba', -31.42, -64.18, 'X50']],
    sites: [['diario-porteno.com.ar', 'IAB12']],
  },
  {
    code: 'AUT', weight: 1, language: 'de', utcoffset: 120, floorTier: 0.8, euro: true, gdpr: true,
    ipFirst: [62, 80, 91], carriers: ['A1', 'Magenta', 'Drei'],
    cities: [['9', 'Wien', 48.21, 16.37, '101'], ['6', 'Graz', 47.07, 15.44, '801']],
    sites: [['wiener-tagblatt.at', 'IAB12']],
  },
  {
    code: 'BEL', weight: 1, language: 'nl', utcoffset: 120, floorTier: 0.8, euro: true, gdpr: true,
    ipFirst: [81, 91, 109], carriers: ['Proximus', 'Orange Belgium', 'BASE'],
    cities: [['BRU', 'Brussels', 50.85, 4.35, '100'], ['VAN', 'Antwerpen', 51.22, 4.4, '200']],
    sites: [['brusselsdagblad.be', 'IAB12']],
  },
  {
    code: 'IRL', weight: 0.5, language: 'en', utcoffset: 60, floorTier: 0.8, euro: true, gdpr: true,
    ipFirst: [78, 86, 89], carriers: ['Vodafone IE', 'Three', 'eir'],
    cities: [['D', 'Dublin', 53.35, -6.26, 'D02'], ['CO', 'Cork', 51.9, -8.47, 'T12']],
    sites: [['liffeytimes.ie', 'IAB12']],
  },
];

/** A site: domain, name, cat, sectioncat, publisher id. */
export type SiteDef = readonly [domain: string, name: string, cat: readonly string[], section: readonly string[], pub: string];

/**
 * Global sites. A few publisher ids and domains are the ones sample campaigns name
 * (publisher "8953", "pub-1"; good.site, example.com, test.com) so those targeting paths
 * see traffic too.
 */
export const GLOBAL_SITES: readonly SiteDef[] = [
  ['www.metronewsdaily.com', 'Metro News Daily', ['IAB12'], ['IAB12-2', 'IAB12-3'], 'pub-20331'],
  ['www.theglobepost.com', 'The Globe Post', ['IAB12'], ['IAB12-1'], 'pub-20331'],
  ['www.sportszone.com', 'SportsZone', ['IAB17'], ['IAB17-12', 'IAB17-44'], 'pub-58812'],
  ['www.techradarhub.com', 'TechRadar Hub', ['IAB19'], ['IAB19-18', 'IAB19-6'], '8953'],
  ['www.autoreview-weekly.com', 'Auto Review Weekly', ['IAB2'], ['IAB2-2', 'IAB2-3'], 'pub-77410'],
  ['www.moneywise-daily.com', 'MoneyWise Daily', ['IAB13'], ['IAB13-7', 'IAB13-5'], 'pub-31907'],
  ['www.recipenest.com', 'RecipeNest', ['IAB8'], ['IAB8-9', 'IAB8-1'], 'pub-1'],
  ['www.wanderlust-trips.com', 'Wanderlust Trips', ['IAB20'], ['IAB20-12', 'IAB20-25'], 'pub-66015'],
  ['www.starbuzz-celebs.com', 'StarBuzz', ['IAB1'], ['IAB1-7', 'IAB1-5'], 'pub-40982'],
  ['www.healthline-today.com', 'Healthline Today', ['IAB7'], ['IAB7-18', 'IAB7-3'], 'pub-12876'],
  ['www.homeandhearth.net', 'Home & Hearth', ['IAB10'], ['IAB10-4', 'IAB10-2'], 'pub-90417'],
  ['www.stylebook-mag.com', 'Stylebook', ['IAB18'], ['IAB18-1', 'IAB18-3'], 'pub-55300'],
  ['www.gamerhub.gg', 'GamerHub', ['IAB9'], ['IAB9-30'], '123'],
  ['www.weather-now.com', 'Weather Now', ['IAB15'], ['IAB15-10'], 'pub-23019'],
  ['www.parentingplus.com', 'Parenting Plus', ['IAB6'], ['IAB6-6'], 'pub-71123'],
  ['www.realty-listings.com', 'Realty Listings', ['IAB21'], ['IAB21-3'], 'pub-34452'],
  ['www.shopdeals.com', 'ShopDeals', ['IAB22'], ['IAB22-1', 'IAB22-4'], 'pub-18800'],
  ['www.foobar.com', 'foobar.com', ['IAB3'], ['IAB3-1'], '8953'],
  ['www.bookworm-reviews.com', 'Bookworm Reviews', ['IAB1'], ['IAB1-1'], 'pub-60071'],
  ['www.careerpath-jobs.com', 'CareerPath', ['IAB4'], ['IAB4-5'], 'pub-81234'],
];

/** Rare placements that sample campaigns allow or deny by name. */
export const NAMED_SITES: readonly SiteDef[] = [
  ['good.site', 'Good Site', ['IAB24'], ['IAB24'], 'pub-1'],
  ['www.example.com', 'Example', ['IAB12'], ['IAB12-1'], 'publisher_id'],
  ['test.com', 'Test', ['IAB19'], ['IAB19-6'], 'pub-99999'],
];

/** Section and page paths for page URLs. */
export const PAGE_PATHS: readonly string[] = [
  'news', 'world', 'politics', 'business', 'sport', 'tech', 'lifestyle', 'travel', 'food', 'health', 'entertainment', 'opinion',
];
export const SLUG_WORDS: readonly string[] = [
  'best', 'new', 'how', 'why', 'guide', 'review', 'top', 'city', 'season', 'market', 'record', 'update', 'week', 'price',
  'plan', 'team', 'budget', 'winter', 'summer', 'tips', 'ranking', 'report', 'launch', 'final', 'night',
];
export const REFERRERS: readonly string[] = [
  'https://www.google.com/', 'https://www.bing.com/', 'https://t.co/', 'https://www.facebook.com/', 'https://news.google.com/',
  'https://duckduckgo.com/', 'https://www.reddit.com/',
];

/** An app: Android bundle, iOS store id, name, cat, publisher id, publisher name. */
export type AppDef = readonly [bundle: string, iosId: string, name: string, cat: readonly string[], pub: string, pubName: string];

export const MOBILE_APPS: readonly AppDef[] = [
  ['com.rovio.angrybirds', '343200656', 'Angry Birds', ['IAB9-30'], 'pub-1', 'Rovio'],
  ['com.puzzlelab.blockblast', '1617391485', 'Block Blast Puzzle', ['IAB9-30'], 'pub-44120', 'PuzzleLab'],
  ['com.weatherly.forecast', '1087563220', 'Weatherly', ['IAB15', 'IAB15-10'], 'pub-23019', 'Weatherly Inc'],
  ['com.newsflash.reader', '1322897551', 'NewsFlash', ['IAB12'], 'pub-20331', 'NewsFlash Media'],
  ['com.fitstep.tracker', '1462031190', 'FitStep', ['IAB7', 'IAB7-18'], 'pub-12876', 'FitStep Labs'],
  ['com.chefmate.recipes', '1190772413', 'ChefMate Recipes', ['IAB8'], 'pub-1', 'ChefMate'],
  ['com.scoreline.live', '1533860127', 'Scoreline Live', ['IAB17'], 'pub-58812', 'Scoreline'],
  ['com.tunebox.radio', '1049938502', 'TuneBox Radio', ['IAB1', 'IAB1-6'], 'pub-40982', 'TuneBox'],
  ['com.tripnest.hotels', '1278345501', 'TripNest Hotels', ['IAB20'], 'pub-66015', 'TripNest'],
  ['com.budgetbee.finance', '1559021874', 'BudgetBee', ['IAB13'], 'pub-31907', 'BudgetBee Ltd'],
  ['com.photoglow.editor', '1398712009', 'PhotoGlow', ['IAB9'], 'pub-90022', 'Glow Apps'],
  ['com.wordcraft.daily', '1602281443', 'WordCraft Daily', ['IAB9-30'], '123', 'WordCraft'],
  ['com.solitaire.classic.free', '1133902231', 'Solitaire Classic', ['IAB9-30'], 'pub-44120', 'PuzzleLab'],
  ['com.app.awesome', '1500000001', 'Awesome App', ['IAB9'], 'pub-1', 'Awesome'],
  ['com.wls.testwlsapplication', '1500000002', 'WLS Test', ['IAB19'], 'pub-99999', 'WLS'],
];

/** Connected-TV channels: bundle, name, cat, publisher id. */
export type CtvAppDef = readonly [bundle: string, name: string, cat: readonly string[], pub: string];
export const CTV_APPS: readonly CtvAppDef[] = [
  ['com.flixstream.ctv', 'FlixStream', ['IAB1', 'IAB1-7'], 'pub-70011'],
  ['tv.docuplus.channel', 'DocuPlus', ['IAB1', 'IAB1-5'], 'pub-70012'],
  ['com.sportsnet.live.tv', 'SportsNet Live', ['IAB17'], 'pub-58812'],
  ['com.newsnow.tv', 'NewsNow TV', ['IAB12'], 'pub-20331'],
];

/** Banner sizes with their relative weights, per placement family. */
export type SizeDef = readonly [w: number, h: number, weight: number];
export const DESKTOP_SIZES: readonly SizeDef[] = [
  [300, 250, 30], [728, 90, 20], [160, 600, 8], [300, 600, 12], [970, 250, 8], [970, 90, 5], [336, 280, 5],
  [468, 60, 2], [250, 250, 3], [120, 600, 2],
];
export const MOBILE_SIZES: readonly SizeDef[] = [
  [300, 250, 32], [320, 50, 32], [320, 100, 8], [300, 50, 5], [320, 480, 12], [728, 90, 3], [300, 600, 3],
];
export const TABLET_SIZES: readonly SizeDef[] = [
  [300, 250, 30], [728, 90, 25], [320, 50, 8], [300, 600, 10], [768, 1024, 10], [160, 600, 7],
];

/** The sizes an ad slot of a given size also accepts, as exchanges list them in format[]. */
export const ALSO_FITS: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  '300x250': [[336, 280], [320, 250], [300, 200]],
  '728x90': [[970, 90], [468, 60]],
  '160x600': [[120, 600], [300, 600]],
  '300x600': [[160, 600], [300, 250]],
  '970x250': [[970, 90], [728, 90]],
  '320x50': [[300, 50], [320, 100]],
  '320x100': [[320, 50]],
};

export const BCAT_LISTS: readonly (readonly string[])[] = [
  ['IAB25', 'IAB26'],
  ['IAB25', 'IAB26', 'IAB7-39', 'IAB8-18', 'IAB8-5', 'IAB9-9'],
  ['IAB25-3', 'IAB26', 'IAB3-7', 'IAB14-1', 'IAB11-4'],
  ['IAB7-39', 'IAB8-18', 'IAB9-9', 'IAB25', 'IAB26', 'IAB23', 'IAB11'],
  ['IAB13-7'],
];

export const BADV_DOMAINS: readonly string[] = [
  'competitor-bank.com', 'stridewear.com', 'casino-online.example', 'megastore.com', 'apple.com', 'go-text.me',
  'heywire.com', 'northbank.co.uk', 'lendly.com', 'cheapflights.example', 'rival-motors.com', 'homequest.com',
  'libertyautoins.com', 'wealthwise.com',
];

/** Apps that app publishers block from advertising on them (bapp): competing games and utilities. */
export const BAPP_BUNDLES: readonly string[] = [
  'com.stayeasy.android', 'com.snackbox.app', 'com.puzzlequest.game', 'mx.tacomex.app', 'app.mindgym', 'com.king.candycrushsaga',
  'com.supercell.clashofclans', 'com.playrix.homescapes', 'com.tripnest.hotels', 'com.budgetbee.finance',
];

/** A deal: id, USD floor, auction type (3 = fixed price). */
export type DealDef = readonly [id: string, floor: number, at: number];
/** Banner deals: the first three are held by sample campaigns, the rest by nobody. */
export const BANNER_DEALS: readonly DealDef[] = [
  ['AB-Agency1-0001', 2.5, 1], ['XY-Agency2-0001', 1.8, 2], ['TT-OPEN-PMP', 1.0, 1],
  ['DX-NEWS-1183', 3.0, 1], ['MAG-PREM-0932', 4.5, 1], ['OMD-AUTO-2231', 6.0, 3], ['GRP-M-77412', 2.2, 2],
  ['SPORTS-PMP-119', 3.5, 1],
];
export const VIDEO_DEALS: readonly DealDef[] = [
  ['PG-MOTOR-0001', 12.0, 3], ['PG-MOTOR-0002', 10.0, 3], ['CTV-PREM-5501', 22.0, 1], ['VID-OLV-2208', 9.0, 2],
];
export const NATIVE_DEALS: readonly DealDef[] = [['PD-WW-NATIVE', 3.5, 3], ['NTV-CONTENT-031', 2.0, 1]];
/** Seats other than ours that deals name in wseat. */
export const OTHER_SEATS: readonly string[] = ['seat-4431', 'dsp-77', 'agency-tt-01'];
/** Our seat (the bidder's default seatId). */
export const OUR_SEAT = 'rtb-bidder';

/** Segment ids some sample campaigns target; most users carry none of them. */
export const TARGETED_SEGMENTS: readonly string[] = ['segmentId1', 'segmentId3', 'idToCopy'];
export const DATA_PROVIDERS: readonly (readonly [id: string, name: string])[] = [
  ['1', 'exchange-dmp'], ['4', 'lotame.com'], ['6', 'datalogix'], ['12', 'bluekai.com'], ['21', 'peer39.com'],
];
export const SEGMENT_NAMES: readonly string[] = [
  'auto intenders', 'sports fans', 'frequent travellers', 'young parents', 'tech enthusiasts', 'home owners',
  'fitness', 'foodies', 'gamers', 'luxury shoppers', 'students', 'small business',
];
export const EID_SOURCES: readonly string[] = ['liveramp.com', 'id5-sync.com', 'uidapi.com', 'criteo.com', 'pubcid.org'];

export const SSP_NAMES: readonly string[] = ['exchange-a.example', 'adx-partner.example', 'openbid.example', 'ssp-one.example'];
export const CHROME_VERSIONS: readonly string[] = ['124.0.6367.82', '124.0.6367.118', '125.0.6422.76', '123.0.6312.105', '126.0.6478.61'];
export const FIREFOX_VERSIONS: readonly string[] = ['125.0', '126.0', '115.0', '127.0'];
export const IOS_VERSIONS: readonly string[] = ['17.4.1', '17.5', '17.5.1', '16.7.8', '17.3.1', '18.0'];
export const MACOS_VERSIONS: readonly string[] = ['10.15.7', '14.4.1', '14.5', '13.6.7'];
export const SAFARI_VERSIONS: readonly string[] = ['17.4.1', '17.5', '16.6', '17.3.1'];

/** Android phones and tablets: make, model as sent in device.model, UA model token, screen w, h. */
export type AndroidDef = readonly [make: string, model: string, token: string, w: number, h: number];
export const ANDROID_PHONES: readonly AndroidDef[] = [
  ['Samsung', 'SM-S918B', 'SM-S918B', 412, 915], ['Samsung', 'SM-A546B', 'SM-A546B', 412, 892],
  ['Samsung', 'SM-G991B', 'SM-G991B', 384, 854], ['Google', 'Pixel 7', 'Pixel 7', 412, 915],
  ['Google', 'Pixel 8 Pro', 'Pixel 8 Pro', 448, 998], ['Xiaomi', 'Redmi Note 12', '23021RAAEG', 393, 873],
  ['OnePlus', 'CPH2449', 'CPH2449', 412, 919], ['Motorola', 'moto g54 5G', 'moto g54 5G', 412, 915],
  ['Oppo', 'CPH2591', 'CPH2591', 360, 800],
];
export const ANDROID_TABLETS: readonly AndroidDef[] = [
  ['Samsung', 'SM-X710', 'SM-X710', 800, 1280], ['Samsung', 'SM-X200', 'SM-X200', 800, 1280], ['Lenovo', 'TB128FU', 'TB128FU', 800, 1340],
];
export const ANDROID_VERSIONS: readonly (readonly [osv: string, build: string])[] = [
  ['14', 'UP1A.231005.007'], ['13', 'TP1A.220624.014'], ['12', 'SP1A.210812.016'], ['14', 'UQ1A.240205.004'],
];
/** iPhone and iPad screens (CSS pixels). */
export const IPHONE_SCREENS: readonly (readonly [number, number])[] = [[390, 844], [393, 852], [430, 932], [375, 667], [428, 926]];
export const IPAD_SCREENS: readonly (readonly [number, number])[] = [[810, 1080], [820, 1180], [1024, 1366]];
export const DESKTOP_SCREENS: readonly (readonly [number, number])[] = [
  [1920, 1080], [1536, 864], [1366, 768], [1440, 900], [2560, 1440], [1280, 720],
];

/** Connected-TV and streaming devices: ua, make, model, os, osv, devicetype. */
export type CtvDef = readonly [ua: string, make: string, model: string, os: string, osv: string, devicetype: number];
export const CTV_DEVICES: readonly CtvDef[] = [
  ['Roku/DVP-13.0 (13.0.0.4182-46)', 'Roku', 'Roku Ultra', 'Roku', '13.0', 3],
  ['Roku/DVP-12.5 (12.5.0.4178-30)', 'Roku', '3930X', 'Roku', '12.5', 7],
  [
    'Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36',
    'Samsung', 'QN65Q80C', 'Tizen', '7.0', 3,
  ],
  [
    'Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36',
    'Amazon', 'AFTKA', 'Android', '9', 7,
  ],
  [
    'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager',
    'LG', 'OLED55C3PUA', 'webOS', '23', 3,
  ],
];
