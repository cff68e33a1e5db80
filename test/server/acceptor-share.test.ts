/**
 * Process-wide bounds hold whatever the number of acceptors: each acceptor gets an even
 * share (receive memory, waiting requests), never less than its floor.
 */
import t from 'tap';
import { shareOf } from '../../src/server/acceptor';

t.test('bounds are shared out between the acceptors', async (t) => {
  t.equal(shareOf(8 * 1024 * 1024, 1, 256 * 1024), 8 * 1024 * 1024, 'one acceptor has it all');
  t.equal(shareOf(8 * 1024 * 1024, 4, 256 * 1024), 2 * 1024 * 1024, 'four share it');
  t.equal(shareOf(8192, 3, 1), 2730, 'rounded down: the total is never exceeded');
  t.ok(shareOf(8192, 3, 1) * 3 <= 8192);
  t.equal(shareOf(512 * 1024, 8, 256 * 1024), 256 * 1024, 'never below the floor (one largest body each)');
});
