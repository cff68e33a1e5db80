/**
 * The exit hand-shake with a thread that holds uWS sockets. A worker thread stopped by
 * the runtime while a uWS socket is open aborts the whole process (libuv refuses to close
 * a loop with live handles), and a process that exits (process.exit, or its loop empties)
 * stops every thread it still runs. So the owner, from its 'exit' listener (which must be
 * synchronous), raises a flag in shared memory and blocks, briefly, until the thread says
 * its sockets are closed; the thread watches the flag with Atomics.waitAsync, which needs
 * nothing from the owner's (now stopping) loop.
 */

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Owner side: ask the thread to close its sockets and wait at most `timeoutMs` for it. */
export function requestExit(state: Int32Array, requested: number, done: number, timeoutMs: number): void {
  Atomics.store(state, requested, 1);
  Atomics.notify(state, requested);
  Atomics.wait(state, done, 0, timeoutMs);
}

/** Thread side: runs `closeSockets` (synchronous) when the owner asks, then says so. */
export function onExitRequest(state: Int32Array, requested: number, done: number, closeSockets: () => void): void {
  const answer = (): void => {
    closeSockets();
    Atomics.store(state, done, 1);
    Atomics.notify(state, done);
  };
  const wait = waitAsync(state, requested, 0);
  if (wait.async) void (wait.value as Promise<string>).then(answer);
  else answer();
}
