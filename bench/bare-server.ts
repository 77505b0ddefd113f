// The floor for HTTP benchmarks: a minimal Fastify instance with one trivial route, started as a
// child process exactly like `foyer serve` (same Node, same loader, same log level).
import Fastify from 'fastify';

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
app.get('/bare', async () => ({ value: [] }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`bare Fastify listening on ${address}`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
