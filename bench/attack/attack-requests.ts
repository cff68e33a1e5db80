/**
 * The bytes the attacks send: a bid request of many impressions each offering every
 * media type (the most work one valid request can ask for), a gzip bomb, and a GET.
 */
import { gzipSync } from 'node:zlib';

/** An imp offering banner, video, native and audio at once, shaped for the sample campaigns. */
function everyMediaImp(id: string): Record<string, unknown> {
  return {
    id,
    bidfloor: 0.01,
    banner: { w: 300, h: 250, format: [{ w: 300, h: 250 }, { w: 728, h: 90 }, { w: 320, h: 50 }, { w: 300, h: 600 }] },
    video: { mimes: ['video/mp4', 'video/webm'], minduration: 5, maxduration: 60, protocols: [2, 3, 5, 6], w: 640, h: 480, plcmt: 1 },
    native: {
      ver: '1.2',
      request: JSON.stringify({
        ver: '1.2',
        context: 1,
        plcmttype: 1,
        assets: [
          { id: 1, required: 1, title: { len: 90 } },
          { id: 2, required: 1, img: { type: 3, w: 1200, h: 627 } },
          { id: 3, data: { type: 2, len: 140 } },
        ],
      }),
    },
    audio: { mimes: ['audio/mp4', 'audio/mpeg'], minduration: 5, maxduration: 60, protocols: [2, 3] },
  };
}

/** The body of one request of `imps` impressions, each with all four media types. */
export function everyMediaRequest(imps: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'attack-every-media',
      tmax: 200,
      cur: ['USD'],
      imp: Array.from({ length: imps }, (_, i) => everyMediaImp(String(i + 1))),
      site: { id: 's', domain: 'news.example.com', page: 'https://news.example.com/a', cat: ['IAB12'], publisher: { id: 'p1' } },
      device: { ua: 'Mozilla/5.0', ip: '192.0.2.1', devicetype: 2, os: 'iOS', geo: { country: 'USA', region: 'CA' } },
      user: { id: 'u1' },
    }),
  );
}

/**
 * A gzip body that inflates to `inflatedBytes` of spaces: about a thousandth of that on
 * the wire, so a few kilobytes claim megabytes once inflated.
 */
export function gzipBomb(inflatedBytes: number): Buffer {
  return gzipSync(Buffer.alloc(inflatedBytes, 0x20), { level: 9 });
}

/** One whole POST /openrtb2/bid with a Content-Length body. */
export function postRequest(body: Buffer, headers: Record<string, string> = {}): Buffer {
  let head = 'POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.byteLength}\r\n\r\n`), body]);
}

/** One keep-alive GET. */
export function getRequest(path: string): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
}
