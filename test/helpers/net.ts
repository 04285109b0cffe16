// Ports for tests: one that nothing listens on (a refused connection) or a free one for a server
// the test starts.
import { connect, createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it; the listener is closed). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * A TCP port on 127.0.0.1 that refuses connections, and keeps refusing them. A port freed by
 * `freePort` lies in the OS's ephemeral range, so a server that another test file starts in
 * parallel may be handed it a moment later (a stand-in answering "JWT token is invalid" instead
 * of a refused connection). Well-known ports below 1024 are never handed out that way.
 */
export async function refusedPort(): Promise<number> {
  for (const port of [1, 3, 5, 7, 9, 11, 13]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no well-known port on 127.0.0.1 refuses connections');
}
