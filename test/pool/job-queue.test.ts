import t from 'tap';
import { JobQueue } from '../../src/pool/job-queue';

t.test('first in, first out; unshift puts items before everything waiting', async (t) => {
  const q = new JobQueue<number>();
  for (let i = 0; i < 5; i++) q.push(i);
  t.equal(q.count, 5);
  t.equal(q.shift(), 0);
  t.equal(q.peek(), 1);
  t.equal(q.at(2), 3);
  q.unshift([10, 11]);
  t.same([q.shift(), q.shift(), q.shift()], [10, 11, 1]);
  t.equal(q.count, 3);
});

t.test('compaction keeps what waits, in order, whatever the head', async (t) => {
  const q = new JobQueue<number>();
  for (let i = 0; i < 3000; i++) q.push(i);
  for (let i = 0; i < 2000; i++) t.equal(q.shift(), i, 'in order');
  q.compact();
  t.equal(q.count, 1000);
  t.equal(q.peek(), 2000, 'the oldest waiting is still first after compacting');
  t.equal(q.at(999), 2999);
  while (q.count > 0) q.shift();
  q.compact();
  q.push(7);
  t.equal(q.count, 1);
  t.equal(q.shift(), 7);
});
