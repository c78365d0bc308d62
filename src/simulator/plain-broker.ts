import { createServer, type AddressInfo, type Socket } from 'net';
import { loadAedes } from './broker';

// A plain MQTT broker on loopback, standing in for the user's own (Mosquitto, Home Assistant's): no login, any
// topic, retained messages kept. The sandbox's "Bridge the stream to your MQTT broker" publishes to it.

export interface PlainBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startPlainBroker(opts: { host?: string; port?: number } = {}): Promise<PlainBroker> {
  const host = opts.host ?? '127.0.0.1';
  const { Aedes } = await loadAedes();
  const aedes = await Aedes.createBroker();
  aedes.on('clientError', () => undefined);
  aedes.on('connectionError', () => undefined);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const closeAedes = (): Promise<void> => new Promise((resolve) => aedes.close(() => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await closeAedes();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${port}`,
    host,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closeAedes();
      await closed;
    },
  };
}
