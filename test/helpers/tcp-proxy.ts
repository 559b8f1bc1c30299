/**
 * A loopback TCP forwarder: the stable address a managed Redis endpoint, a virtual IP or a Sentinel-aware
 * proxy gives clients, moved to another server on failover. Clients only ever see its port.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Sends new connections to `port` and drops the open ones (as when the server behind them dies). */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      // Either side closing or failing ends the pair, as a dead server ends its clients' connections.
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    retarget(port) {
      target = port;
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
