/**
 * Representative requests run through the whole bid path at worker start so the JIT has
 * compiled it before real traffic: banner, multi-size, video, native, app, a deal, and an
 * invalid one (the error path is hot too under attack).
 */
export const WARM_REQUESTS: readonly string[] = [
  JSON.stringify({
    id: 'warm-banner',
    imp: [{ id: '1', banner: { w: 300, h: 250, format: [{ w: 300, h: 250 }, { w: 728, h: 90 }] }, bidfloor: 0.1 }],
    site: { id: 's', domain: 'news.example.com', cat: ['IAB12'], publisher: { id: 'p1' } },
    device: { ua: 'Mozilla/5.0', ip: '192.0.2.1', devicetype: 2, os: 'iOS', geo: { country: 'USA', region: 'CA' } },
    user: { id: 'u1', data: [{ id: 'd', segment: [{ id: 'seg-1' }] }] },
    tmax: 120,
    cur: ['USD'],
  }),
  JSON.stringify({
    id: 'warm-multi',
    imp: [
      { id: '1', banner: { format: [{ w: 320, h: 50 }] }, bidfloor: 0.05 },
      { id: '2', video: { mimes: ['video/mp4'], minduration: 5, maxduration: 30, protocols: [2, 3], w: 640, h: 480 } },
      { id: '3', native: { request: '{"ver":"1.2","assets":[{"id":1,"title":{"len":90}}]}', ver: '1.2' } },
    ],
    app: { id: 'a', bundle: 'com.example.game', publisher: { id: 'p2' } },
    device: { ifa: 'ifa-1', devicetype: 4, os: 'Android', geo: { country: 'GBR' } },
    bcat: ['IAB25'],
    badv: ['blocked.example'],
  }),
  JSON.stringify({
    id: 'warm-deal',
    imp: [{ id: '1', banner: { w: 728, h: 90 }, pmp: { private_auction: 1, deals: [{ id: 'deal-1', bidfloor: 1 }] } }],
    site: { domain: 'example.org' },
  }),
  '{"id":"warm-bad","imp":[]}',
];
