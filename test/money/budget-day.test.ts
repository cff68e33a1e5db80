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
  for (const tz of ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'America/Havana', 'Pacific/Chatham']) {
    const day = new BudgetDay(tz);
    let ms = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 400; i++) {
      const start = day.startOf(ms);
      const len = day.lengthOf(ms);
      if (!(start <= ms && ms < start + len)) t.fail(`${tz}: ${new Date(ms).toISOString()} outside its day`);
      if (day.keyOf(start + len) === day.keyOf(ms)) t.fail(`${tz}: the next day has the same key`);
      if (day.keyOf(start - 1) === day.keyOf(ms)) t.fail(`${tz}: ${new Date(ms).toISOString()}: the day starts before its start`);
      ms = start + len + 7 * h;
    }
  }
  t.pass('400 days in each of 8 zones');
});

t.test('time zones are checked', async (t) => {
  t.ok(validTimezone('Europe/Paris'));
  t.notOk(validTimezone('Mars/Olympus'));
});

t.test('a DST change at midnight: the day starts at 01:00 local and has 23 hours', async (t) => {
  const santiago = new BudgetDay('America/Santiago'); // 2026-09-06 00:00 -04 becomes 01:00 -03
  const morning = Date.UTC(2026, 8, 6, 15);
  t.equal(santiago.keyOf(morning), '2026-09-06');
  t.equal(new Date(santiago.startOf(morning)).toISOString(), '2026-09-06T04:00:00.000Z');
  t.equal(santiago.lengthOf(morning), 23 * h);
  t.equal(santiago.keyOf(santiago.startOf(morning) - 1), '2026-09-05');
  const havana = new BudgetDay('America/Havana'); // 2026-03-08 00:00 -05 becomes 01:00 -04
  const noon = Date.UTC(2026, 2, 8, 16);
  t.equal(new Date(havana.startOf(noon)).toISOString(), '2026-03-08T05:00:00.000Z');
  t.equal(havana.lengthOf(noon), 23 * h);
  t.equal(havana.lengthOf(Date.UTC(2026, 2, 7, 16)), 24 * h, 'the day before is whole');
});
