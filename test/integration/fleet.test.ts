/**
 * Two bidder processes sharing a real redis-server, as a fleet: they lease one daily budget
 * in slices, the bills for one bidder's bids go to the other (and their retries back to the
 * first), and the fleet's spend stays within the budget plus the README's bound. Then Redis
 * is stopped while both are under load: they keep answering on the leases they hold, and
 * reconnect by themselves when it comes back. Skips, saying why, without redis-server.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRedis } from '../../bench/lib/redis-server';
import { SIMPLE_BANNER } from '../helpers/requests';
import { freePort, postBid, REPO_ROOT, sampleValue, scrape, send, withTimeout } from '../helpers/test-bidder';

t.setTimeout(180_000);

interface Bidder {
  name: string;
  port: number;
  opsPort: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const campaignsFile = resolve(REPO_ROOT, 'test/fixtures/campaigns/money-budgets.json');
const work = mkdtempSync(join(tmpdir(), 'fleet-'));
const keyFile = join(work, 'notice.key');
writeFileSync(keyFile, Buffer.alloc(32, 0x33));

async function startBidderProcess(name: string, redisUrl: string): Promise<Bidder> {
  const port = await freePort();
  const opsPort = await freePort();
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/src/main.js')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      BIDDER_HOST: '127.0.0.1', BIDDER_PORT: String(port), BIDDER_OPS_HOST: '127.0.0.1', BIDDER_OPS_PORT: String(opsPort),
      BIDDER_POOL_THREADS: '1', BIDDER_ACCEPTORS: '1', BIDDER_CAMPAIGNS_FILE: campaignsFile, BIDDER_NOTICE_KEY_FILE: keyFile,
      BIDDER_REDIS_URL: redisUrl, BIDDER_LEASE_SLICE_MICROS: '4000', BIDDER_INSTANCE_ID: name, BIDDER_EVENTS_DIR: join(work, name),
      BIDDER_FIRE_ADVERTISER_TRACKERS: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await withTimeout((async () => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
      try {
        if ((await send(port, 'GET', '/readyz')).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })(), 60_000, `${name} ready`);
  return {
    name, port, opsPort, child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function request(id: string, domain: string, userId: string): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, site: { ...SIMPLE_BANNER.site, domain }, user: { id: userId } });
}

interface Bid {
  id: string;
  burl: string;
}

async function bid(b: Bidder, id: string, domain: string, user = 'fleet-user'): Promise<Bid | null> {
  const r = await postBid(b.port, request(id, domain, user));
  if (r.status === 204) return null;
  if (r.status !== 200) throw new Error(`${b.name}: ${r.status} ${r.body}`);
  return JSON.parse(r.body).seatbid[0].bid[0] as Bid;
}

async function bill(to: Bidder, url: string, requestId: string): Promise<number> {
  const u = new URL(url.replace('${AUCTION_PRICE}', '2.00').replace('${AUCTION_ID}', requestId).replace('${AUCTION_CURRENCY}', 'USD'));
  return (await send(to.port, 'GET', u.pathname + u.search)).status;
}

async function metric(b: Bidder, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(await scrape(b.opsPort), name, labels) ?? 0;
}

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  await withTimeout((async () => {
    while (!(await ok())) await new Promise((r) => setTimeout(r, 100));
  })(), ms, what);
}

t.test('two bidders share one budget through Redis; bills cross over; Redis stops under load', async (t) => {
  const redis = await startRedis();
  if (redis === null) {
    t.skip('redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)');
    return;
  }
  t.teardown(() => redis.stop());
  const a = await startBidderProcess('fleet-a', redis.url);
  t.teardown(() => a.stop());
  const b = await startBidderProcess('fleet-b', redis.url);
  t.teardown(() => b.stop());
  await until('both leased from Redis', async () => (await metric(a, 'bidder_fleet_up')) === 1 && (await metric(b, 'bidder_fleet_up')) === 1);

  // The daily budget is 20,000 micro-USD; every bid reserves 2,000 (a 2.00 CPM impression).
  const bids: { from: Bidder; to: Bidder; bid: Bid; requestId: string }[] = [];
  for (let i = 0; i < 30; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const requestId = `fleet-${i}`;
    const x = await bid(from, requestId, 'daily.example');
    if (x !== null) bids.push({ from, to, bid: x, requestId });
    await new Promise((r) => setTimeout(r, 50)); // the owners top their leases up on their clock
  }
  t.ok(bids.length <= 10, `the fleet bid ${bids.length} times: never more than the budget's 10 impressions`);
  t.ok(bids.length >= 6, `and most of the budget was bid (${bids.length})`);
  // Bills go to the other bidder; their retries go back to the bidder that made the bid.
  for (const x of bids) t.equal(await bill(x.to, x.bid.burl, x.requestId), 204);
  for (const x of bids) t.equal(await bill(x.from, x.bid.burl, x.requestId), 204, 'a retry at the other instance is answered the same');
  await until('every bill counted', async () =>
    (await metric(a, 'bidder_notices_counted_total', { kind: 'bill', counted: 'first' })) + (await metric(b, 'bidder_notices_counted_total', { kind: 'bill', counted: 'first' })) >= bids.length);
  await new Promise((r) => setTimeout(r, 300));
  const spendA = await metric(a, 'bidder_spend_micros_total', { campaign: 'mx-daily' });
  const spendB = await metric(b, 'bidder_spend_micros_total', { campaign: 'mx-daily' });
  t.equal(spendA + spendB, bids.length * 2_000, `each bill counted once in the fleet (a ${spendA}, b ${spendB})`);
  t.ok(spendA + spendB <= 20_000, 'the fleet spent no more than the daily budget');
  const repeats = (await metric(a, 'bidder_notices_counted_total', { kind: 'bill', counted: 'repeat' })) + (await metric(b, 'bidder_notices_counted_total', { kind: 'bill', counted: 'repeat' }));
  t.equal(repeats, bids.length, 'every cross-instance retry was recognised as a repeat through Redis');
  await until('leases counted', async () => (await metric(a, 'bidder_fleet_operations_total', { result: 'lease_granted' })) > 0 &&
    (await metric(b, 'bidder_fleet_operations_total', { result: 'lease_granted' })) > 0, 5_000);
  t.pass('both bidders leased budget from Redis (bidder_fleet_operations_total{result="lease_granted"})');

  // Under load, Redis goes away: both keep answering (the capped campaign has no budget, so bids go on).
  let answered = 0;
  let failed = 0;
  let stop = false;
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const to = i % 2 === 0 ? a : b;
      try {
        const r = await postBid(to.port, request(`load-${i}`, 'capped.example', `load-user-${i}`));
        if (r.status === 200 || r.status === 204) answered++;
        else failed++;
        if (r.status === 200) {
          const x = JSON.parse(r.body).seatbid[0].bid[0] as Bid;
          if ((await bill(i % 3 === 0 ? a : b, x.burl, `load-${i}`)) !== 204) failed++;
        }
      } catch {
        failed++;
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  await redis.stop();
  await until('both see Redis down', async () => (await metric(a, 'bidder_fleet_up')) === 0 && (await metric(b, 'bidder_fleet_up')) === 0);
  const during = answered;
  await new Promise((r) => setTimeout(r, 1_500));
  t.ok(answered > during + 20, `bidding went on with Redis down (${answered - during} answers in 1.5 s)`);
  await redis.restart();
  await until('both reconnected by themselves', async () => (await metric(a, 'bidder_fleet_up')) === 1 && (await metric(b, 'bidder_fleet_up')) === 1, 20_000);
  stop = true;
  await load;
  t.equal(failed, 0, 'no request or notice failed while Redis was down and back');
  t.ok((await metric(a, 'bidder_fleet_operations_total', { result: 'failed' })) > 0, 'the outage is counted');
});
