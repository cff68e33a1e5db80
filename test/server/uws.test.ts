import t from 'tap';
import { loadNativeUws, UwsLoadError } from '../../src/server/uws';

t.test('loadNativeUws returns the native binary with an App function', async (t) => {
  const uws = loadNativeUws();
  t.type(uws.App, 'function');
  t.type(uws.us_listen_socket_close, 'function');
  t.equal(loadNativeUws(), uws, 'the module is loaded once and cached by require');
});

t.test('the native App listens on an ephemeral port and closes', async (t) => {
  const uws = loadNativeUws();
  const app = uws.App();
  app.get('/ping', (res) => {
    res.end('pong', true); // close the connection so the test process can exit
  });
  const socket = await new Promise<unknown>((resolve) => app.listen('127.0.0.1', 0, resolve));
  t.ok(socket, 'listen succeeded');
  const port = uws.us_socket_local_port(socket as never);
  t.ok(port > 0);
  const body = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.text());
  t.equal(body, 'pong');
  uws.us_listen_socket_close(socket as never);
});

t.test('UwsLoadError carries a stable code', async (t) => {
  const e = new UwsLoadError('x');
  t.equal(e.code, 'UWS_NATIVE_UNAVAILABLE');
  t.ok(e instanceof Error);
});
