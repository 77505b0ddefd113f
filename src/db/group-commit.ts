import { sql, type ControlledTransaction, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Engine } from './database.js';

/** Runs `work` in a transaction and answers its result once that transaction has committed. */
export type Transact = <T>(work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>;

interface Pending {
  work: (trx: Transaction<Database>) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Units of work one shared SQLite transaction takes at most (bounds how long readers wait). */
const MAX_UNITS_PER_COMMIT = 64;

/**
 * A transaction runner for hot write paths. On PostgreSQL each unit of work is its own
 * transaction (the server commits concurrent transactions together already). On SQLite, which
 * writes one transaction at a time and spends most of a small write in its commit, the units
 * that arrive in the same turn of the event loop share one transaction ("group commit"): each
 * runs inside its own savepoint, so a unit that fails is rolled back alone and rejected at once,
 * and the others are answered only after the shared commit, so nobody is told "done" before it
 * is durable. Units run one after another, so each sees the writes of those before it, exactly
 * as if they had been separate transactions in that order.
 */
export function createTransact(db: Kysely<Database>, engine: Engine): Transact {
  if (engine === 'postgres') return (work) => db.transaction().execute(work);

  const queue: Pending[] = [];
  let scheduled = false;
  let running = false;

  async function commitQueued(): Promise<void> {
    while (queue.length > 0) {
      let trx: ControlledTransaction<Database>;
      try {
        trx = await db.startTransaction().execute();
      } catch (error) {
        for (const unit of queue.splice(0, MAX_UNITS_PER_COMMIT)) unit.reject(error);
        continue;
      }
      const done: { unit: Pending; value: unknown }[] = [];
      let current: Pending | null = null;
      try {
        for (let n = 0; n < MAX_UNITS_PER_COMMIT && queue.length > 0; n++) {
          current = queue.shift()!;
          await sql`savepoint unit`.execute(trx);
          let value: unknown;
          try {
            value = await current.work(trx);
          } catch (error) {
            // If SQLite already rolled the whole transaction back, this throws to the outer catch.
            await sql`rollback to unit`.execute(trx);
            await sql`release unit`.execute(trx);
            current.reject(error);
            current = null;
            continue;
          }
          await sql`release unit`.execute(trx);
          done.push({ unit: current, value });
          current = null;
        }
        await trx.commit().execute();
      } catch (error) {
        await trx
          .rollback()
          .execute()
          .catch(() => {});
        current?.reject(error);
        for (const { unit } of done) unit.reject(error);
        continue;
      }
      for (const { unit, value } of done) unit.resolve(value);
    }
  }

  function schedule() {
    if (scheduled || running) return;
    scheduled = true;
    // setImmediate runs after the event loop has read every request that is ready, so all of
    // them are queued before the shared transaction starts.
    setImmediate(() => {
      scheduled = false;
      running = true;
      void commitQueued().finally(() => {
        running = false;
        if (queue.length > 0) schedule();
      });
    });
  }

  return <T>(work: (trx: Transaction<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });
}
