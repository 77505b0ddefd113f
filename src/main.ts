import { loadConfig, type Config } from './config.js';
import { openDatabase, migrateToLatest } from './db/database.js';
import { systemClock } from './clock.js';
import { buildApp, bulkInvitationsFor } from './app.js';
import { bootstrapOrganization } from './tenancy/bootstrap.js';
import { createWorker, type WorkerLog } from './jobs/worker.js';
import { directoryJobHandlers, scheduleRecurringJobs } from './jobs/directory-jobs.js';
import { createDeletedItemsService } from './directory/deleted-items.service.js';
import { createMailTransport } from './mail/transport.js';
import { mailJobHandlers } from './mail/mail-queue.js';
import { invitationMailContent } from './invitations/invitation-mail.js';
import { isDatabaseUnavailable } from './db/errors.js';

/**
 * Opens and migrates the database and makes sure the organization exists. Long-running
 * processes (server, worker) checkpoint SQLite's log from a background thread.
 */
export async function prepare(config: Config, options: { longRunning?: boolean } = {}) {
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    connectTimeoutMs: config.dbConnectTimeoutSeconds * 1000,
    backgroundCheckpoints: options.longRunning === true,
  });
  await migrateToLatest(database.db);
  const { tenant, admin } = await bootstrapOrganization(
    database.db,
    { name: config.orgName, domain: config.orgDomain, adminEmail: config.adminEmail, adminPassword: config.adminPassword },
    systemClock,
  );
  if (admin) {
    console.log(`Created organization '${tenant.displayName}' (${tenant.initialDomain}) and its Global Administrator ${admin.userPrincipalName}.`);
    if (admin.generatedPassword) console.log(`Generated password (shown once): ${admin.generatedPassword}`);
  }
  return { database, tenant };
}

/** Where a long-running process reports what it survives and what ends it. */
export interface ProcessLog {
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/**
 * Process-level guard of `serve` and `worker`. A promise rejected with nobody awaiting it, because
 * the database went away, is logged and survived: the work it belonged to was rolled back with its
 * transaction, and requests and the worker try again on their own. Any other unhandled rejection
 * is a defect: it is logged with its stack and the process exits (status 1), as Node would, so
 * that its supervisor starts it afresh instead of it running on in a state nobody planned.
 * Uncaught exceptions keep Node's default (print and exit): one thrown out of an event handler may
 * have left anything half-updated. Lost connections never get there: the pool listens for them.
 */
export function guardProcess(log: ProcessLog): void {
  process.on('unhandledRejection', (reason) => {
    if (isDatabaseUnavailable(reason)) {
      log.warn({ err: reason }, 'database unavailable in work nobody awaited; continuing');
      return;
    }
    log.error({ err: reason }, 'unhandled promise rejection; exiting');
    process.exit(1);
  });
}

/** The job worker with every handler: directory upkeep and mail delivery (SMTP when SMTP_URL is set, else the outbox). */
export function startWorker(database: Awaited<ReturnType<typeof prepare>>['database'], config: Config, logger?: WorkerLog) {
  const deleted = createDeletedItemsService({ db: database.db, engine: database.engine, clock: systemClock, secret: config.secret });
  const transport = createMailTransport(config.smtpUrl);
  const handlers = {
    ...directoryJobHandlers(deleted, database.db, systemClock),
    ...mailJobHandlers(database.db, transport, systemClock, invitationMailContent(database.db, config.secret)),
    ...bulkInvitationsFor(database, systemClock, config).handlers,
  };
  const worker = createWorker({ db: database.db, engine: database.engine, clock: systemClock, handlers, logger, lockMs: config.jobLockSeconds * 1000 });
  return {
    worker: { ...worker, stop: () => worker.stop().finally(() => transport.close()) },
    ready: scheduleRecurringJobs(database.db, systemClock).then(() => worker.start()),
  };
}

/** `foyer serve`: HTTP API and (unless disabled) the job worker in one process, stopped cleanly on SIGINT/SIGTERM. */
export async function serve(options: { worker: boolean }): Promise<void> {
  const config = loadConfig();
  const { database, tenant } = await prepare(config, { longRunning: true });
  const app = await buildApp({ config, database, clock: systemClock, tenantId: tenant.id });
  guardProcess(app.log);
  const jobs = options.worker ? startWorker(database, config, app.log) : null;
  await jobs?.ready;
  const address = await app.listen({ port: config.port, host: config.host });
  // The address first: scripts read the port from it; the public URL is what links point to.
  console.log(
    `Foyer is listening on ${address.replace('127.0.0.1', 'localhost')} (${database.engine})${config.baseUrl ? `, public URL ${config.baseUrl}` : ''}`,
  );
  const shutdown = async () => {
    await app.close();
    await jobs?.worker.stop();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
