/** Budget days follow the campaign's time zone, DST days included. */
import t from 'tap';
import { BudgetDay, validTimezone } from '../../src/money/budget-day';

const h = 3_600_000;

t.test('a day in the zone: key, start, length', async (t) => {
  const ny = new BudgetDay('America/New_York');
  const springForward = Date.UTC(2026, 2, 8, 12);
  t.equal(ny.keyOf(springForward), '2026-03-08');
  t.equal(new Date(ny.startOf(springForward)).toISOString(), '2026-03-08T05:00:00.000Z');
  t.equal(ny.lengthOf(springForward), 23 * h, 'the spring-forward day has 23 hours');
  const london = new BudgetDay('Europe/London');
  const fallBack = Date.UTC(2026, 9, 25, 0, 30);
  t.equal(london.keyOf(fallBack), '2026-10-25');
  t.equal(new Date(london.startOf(fallBack)).toISOString(), '2026-10-24T23:00:00.000Z');
  t.equal(london.lengthOf(fallBack), 25 * h, 'the fall-back day has 25 hours');
  const kolkata = new BudgetDay('Asia/Kolkata');
  const evening = Date.UTC(2026, 11, 2, 20, 0); // 01:30 on the 3rd in Kolkata
  t.equal(kolkata.keyOf(evening), '2026-12-03');
  t.equal(new Date(kolkata.startOf(evening)).toISOString(), '2026-12-02T18:30:00.000Z');
  t.equal(kolkata.lengthOf(evening), 24 * h);
  const utc = new BudgetDay('UTC');
  t.equal(utc.keyOf(evening), '2026-12-02');
  t.equal(utc.startOf(evening), Date.UTC(2026, 11, 2));
});

t.test('every instant lies in its day, and days tile time', async (t) => {
  for (const tz of ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu']) {
    const day = new BudgetDay(tz);
    let ms = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 400; i++) {
      const start = day.startOf(ms);
      const len = day.lengthOf(ms);
      if (!(start <= ms && ms < start + len)) t.fail(`${tz}: ${new Date(ms).toISOString()} outside its day`);
      if (day.keyOf(start + len) === day.keyOf(ms)) t.fail(`${tz}: the next day has the same key`);
      ms = start + len + 7 * h;
    }
  }
  t.pass('400 days in each of 5 zones');
});

t.test('time zones are checked', async (t) => {
  t.ok(validTimezone('Europe/Paris'));
  t.notOk(validTimezone('Mars/Olympus'));
});
