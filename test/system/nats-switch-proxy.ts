/**
 * A TCP proxy between one process and NATS whose upstream nats-server can be switched while the
 * process runs: NATS-level network partitions for the system tests. switchTo(port) drops every
 * open connection (the process's NATS client sees its socket close, as on a cut link) and pipes
 * the next ones to the given server. Pointing it at a separate nats-server isolates the process
 * from everyone on the main server while it keeps running and reconnecting (its subscriptions,
 * e.g. its status subject, move with it); pointing it back heals the partition.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class NatsSwitchProxy {
  private readonly open = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number, private upstreamPort: number) {}

  /** Listens on a free loopback port, piping to the nats-server on upstreamPort. */
  static async start(upstreamPort: number): Promise<NatsSwitchProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new NatsSwitchProxy(server, address.port, upstreamPort);
    server.on('connection', (client) => proxy.pipe(client));
    return proxy;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Cuts every open connection; the ones made from now on go to the nats-server on `upstreamPort`. */
  switchTo(upstreamPort: number): void {
    this.upstreamPort = upstreamPort;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    const pair = [client, upstream];
    for (const socket of pair) {
      this.open.add(socket);
      // Either side ending or failing ends both: the NATS client then reconnects.
      socket.once('close', () => {
        this.open.delete(socket);
        for (const other of pair) other.destroy();
      });
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
