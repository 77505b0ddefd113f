import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';

type Payload = Record<string, unknown> & { consumed?: number };

/**
 * oidc-provider's storage in our database (table `oidc_payloads`): sessions, interactions, codes,
 * tokens and grants, so every process behind one PostgreSQL sees the same state. Clients are not
 * stored here; they are the registered applications (`loadClient`). Expired rows are read as
 * missing and deleted by the hourly upkeep job (`pruneOidcPayloads`).
 */
export function createOidcAdapter(db: Kysely<Database>, loadClient: (clientId: string) => Promise<Payload | undefined>) {
  const nowIso = () => new Date().toISOString();

  return class DatabaseAdapter {
    constructor(readonly name: string) {}

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      // oidc-provider reckons expiry by the real clock, so this does too.
      const expires_at = expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
      const text = (v: unknown) => (typeof v === 'string' ? v : null);
      const row = {
        kind: this.name,
        id,
        payload: JSON.stringify(payload),
        grant_id: text(payload.grantId),
        uid: text(payload.uid),
        user_code: text(payload.userCode),
        client_id: text(payload.clientId),
        account_id: text(payload.accountId),
        expires_at,
        consumed_at: null,
      };
      const { kind: _k, id: _i, ...update } = row;
      await db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet(update))
        .execute();
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.name === 'Client') return loadClient(id);
      return this.findBy('id', id);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return this.findBy('user_code', userCode);
    }

    private async findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<Payload | undefined> {
      if (typeof value !== 'string' || value.length > 512) return undefined;
      const row = await db
        .selectFrom('oidc_payloads')
        .select(['payload', 'consumed_at', 'expires_at'])
        .where('kind', '=', this.name)
        .where(column, '=', value)
        .executeTakeFirst();
      if (!row || (row.expires_at && row.expires_at <= nowIso())) return undefined;
      const payload = JSON.parse(row.payload) as Payload;
      if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
      return payload;
    }

    async consume(id: string): Promise<void> {
      await db.updateTable('oidc_payloads').set({ consumed_at: nowIso() }).where('kind', '=', this.name).where('id', '=', id).execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('kind', '=', this.name).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    }
  };
}

/** Deletes expired sessions, interactions, codes and tokens (called by a recurring job). */
export async function pruneOidcPayloads(db: Kysely<Database>, clock: Clock): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('expires_at', '<=', clock.now().toISOString()).execute();
}
