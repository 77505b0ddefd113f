import net from 'node:net';

/** A TCP proxy in front of PostgreSQL that a test can cut, as a network failure or a failover would. */
export interface TcpProxy {
  /** The database URL given, leading through the proxy (its query parameters kept). */
  url: string;
  /** Whether connections are cut now. */
  readonly isCut: boolean;
  /** Drops every open connection and refuses new ones (ECONNREFUSED) until `restore`. */
  cut(): void;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): void;
}

/** Starts a proxy on 127.0.0.1 to the host and port of `databaseUrl`. */
export async function startTcpProxy(databaseUrl: string | URL): Promise<TcpProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const dropAll = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      dropAll();
    },
    async restore() {
      await listen(port);
      cut = false;
    },
    close: dropAll,
  };
}
