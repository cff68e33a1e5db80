/**
 * The gate's second look: when the verdict on the first rounds fails, as many rounds
 * again are measured and the verdict is taken on all of them together (medians over twice
 * the rounds). One slow minute on a shared host does not fail the gate on its own; code
 * that is really slower fails twice. Pure apart from the measuring it is handed.
 */
export interface Confirmed<R, V> {
  rounds: R[];
  verdict: V;
  /** Whether the first verdict failed and the rounds were doubled. */
  remeasured: boolean;
}

export async function measureConfirmed<R, V extends { passed: boolean }>(
  measure: () => Promise<R[]>,
  judge: (rounds: R[]) => V,
  options: { confirm: boolean; onFirstFailure?: (first: V, rounds: number) => void },
): Promise<Confirmed<R, V>> {
  const rounds = await measure();
  const first = judge(rounds);
  if (first.passed || !options.confirm) return { rounds, verdict: first, remeasured: false };
  options.onFirstFailure?.(first, rounds.length);
  const all = [...rounds, ...(await measure())];
  return { rounds: all, verdict: judge(all), remeasured: true };
}
