import t from 'tap';
import { ALL_AUCTION_MACROS, AUCTION_PRICE } from '../../src/openrtb/macros';

t.test('the ten OpenRTB 2.6 substitution macros, spelled as exchanges expect', async (t) => {
  t.equal(ALL_AUCTION_MACROS.length, 10);
  t.equal(new Set(ALL_AUCTION_MACROS).size, 10);
  for (const m of ALL_AUCTION_MACROS) t.match(m, /^\$\{AUCTION_[A-Z_]+\}$/);
  t.equal(AUCTION_PRICE, '${AUCTION_PRICE}');
});
