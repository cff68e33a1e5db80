/**
 * The shading segment of an impression: a u32, never 0 (0 means "no segment" to the
 * learner and the table), that groups impressions sold in the same market. It hashes:
 * - the publisher id (site.publisher.id, app.publisher.id or dooh.publisher.id) together
 *   with which of site, app and dooh carried it (one publisher's web and app inventory
 *   are different markets);
 * - the imp's media types, as a bit set (banner 1, video 2, audio 4, native 8): a
 *   banner-or-video impression draws video bidders, so it is not the banner market;
 * - the banner size: banner.w x banner.h, else the first format with a fixed size;
 *   0 x 0 when the imp has no banner or no size;
 * - device.devicetype (0 when absent).
 * Missing fields hash as empty or 0, so impressions that lack them share a segment.
 *
 * No allocation: FNV-1a over the publisher id's code units and the integer mixers of
 * src/features/hash.ts, each with its own seed computed at load.
 */
import { fieldSeed, hashInts3, hashString } from '../features/hash';
import type { Banner, BidRequest, Imp, Publisher } from '../openrtb/types';

export const kMediaBanner = 1;
export const kMediaVideo = 2;
export const kMediaAudio = 4;
export const kMediaNative = 8;

const kSeedPublisher = fieldSeed('shading.publisher');
const kSeedShape = fieldSeed('shading.shape');

const kChannelNone = 0;
const kChannelSite = 1;
const kChannelApp = 2;
const kChannelDooh = 3;

/** The imp's media types as kMedia* bits. */
export function mediaBits(imp: Imp): number {
  let bits = 0;
  if (imp.banner != null) bits |= kMediaBanner;
  if (imp.video != null) bits |= kMediaVideo;
  if (imp.audio != null) bits |= kMediaAudio;
  if (imp.native != null) bits |= kMediaNative;
  return bits;
}

function publisherId(p: Publisher | undefined): string {
  const id = p?.id;
  return typeof id === 'string' ? id : '';
}

function dimension(v: unknown): number {
  return typeof v === 'number' && v > 0 && v < 0x10000 ? v | 0 : 0;
}

/** w * 65536 + h of the banner's size (its own w/h, else its first fixed format), 0 when none. */
export function bannerSize(banner: Banner | undefined): number {
  if (banner == null) return 0;
  let w = dimension(banner.w);
  let h = dimension(banner.h);
  if ((w === 0 || h === 0) && Array.isArray(banner.format)) {
    w = h = 0;
    for (let i = 0; i < banner.format.length; i++) {
      const f = banner.format[i];
      const fw = dimension(f?.w);
      const fh = dimension(f?.h);
      if (fw > 0 && fh > 0) {
        w = fw;
        h = fh;
        break;
      }
    }
  }
  return w > 0 && h > 0 ? w * 0x10000 + h : 0;
}

/** The shading segment of `imp` in `req`: a u32 in [1, 2^32). */
export function shadingSegment(req: BidRequest, imp: Imp): number {
  let channel = kChannelNone;
  let id = '';
  if (req.site != null) {
    channel = kChannelSite;
    id = publisherId(req.site.publisher);
  } else if (req.app != null) {
    channel = kChannelApp;
    id = publisherId(req.app.publisher);
  } else if (req.dooh != null) {
    channel = kChannelDooh;
    id = publisherId(req.dooh.publisher);
  }
  const devicetype = req.device != null ? dimension(req.device.devicetype) & 0xff : 0;
  const publisher = hashString(kSeedPublisher ^ channel, id, false);
  const h = hashInts3(kSeedShape ^ publisher, (mediaBits(imp) << 8) | devicetype, bannerSize(imp.banner) | 0, channel);
  return h === 0 ? 1 : h;
}
