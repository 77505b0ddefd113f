import type { FastifyReply, FastifyRequest } from 'fastify';

/** One open server-sent events stream: a person following a channel or a meeting. */
interface LiveConnection {
  userId: string;
  conversationId: string;
  /** Whether the person may still follow the conversation (membership, session, account). */
  stillAllowed(): Promise<boolean>;
  send(event: string, data: unknown): void;
  close(): void;
}

/**
 * The live connections of this process. Events are pushed to the connections of a conversation as
 * they happen here; access is checked again after every change that may end it (and every few
 * seconds, for changes made by other processes), and a connection whose person lost access is closed.
 */
export function createLiveHub(options: { recheckIntervalMs?: number; heartbeatMs?: number } = {}) {
  const connections = new Set<LiveConnection>();
  let checking: Promise<void> | null = null;
  let again = false;

  async function revalidate(): Promise<void> {
    // One sweep at a time; a request for another while one runs makes one more afterwards.
    if (checking) {
      again = true;
      return checking;
    }
    checking = (async () => {
      do {
        again = false;
        for (const c of [...connections]) {
          let ok: boolean;
          try {
            ok = await c.stillAllowed();
          } catch {
            ok = false;
          }
          if (!ok) c.close();
        }
      } while (again);
    })().finally(() => {
      checking = null;
    });
    return checking;
  }

  const timer = setInterval(() => void revalidate(), options.recheckIntervalMs ?? 5000);
  timer.unref();

  return {
    /** Opens an event stream on the request's socket and keeps it until the client leaves or access ends. */
    open(
      req: FastifyRequest,
      reply: FastifyReply,
      args: { userId: string; conversationId: string; stillAllowed(): Promise<boolean>; initial?: { event: string; data: unknown }[] },
    ) {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        'request-id': req.id,
      });
      raw.write(': connected\n\n');
      let open = true;
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), options.heartbeatMs ?? 25_000);
      heartbeat.unref();
      const conn: LiveConnection = {
        userId: args.userId,
        conversationId: args.conversationId,
        stillAllowed: args.stillAllowed,
        send(event, data) {
          if (open) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        close() {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          connections.delete(conn);
          raw.end();
        },
      };
      connections.add(conn);
      for (const e of args.initial ?? []) conn.send(e.event, e.data);
      req.raw.on('close', () => conn.close());
    },

    /** Sends an event to everyone following the conversation. */
    publish(conversationId: string, event: string, data: unknown): void {
      for (const c of connections) if (c.conversationId === conversationId) c.send(event, data);
    },

    /** Checks every connection's access now (after a removal, a deletion, a sign-out). */
    revalidate,

    /** How many connections are open (for tests and health). */
    size: () => connections.size,

    closeAll(): void {
      clearInterval(timer);
      for (const c of [...connections]) c.close();
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
