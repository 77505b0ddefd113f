import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { userIndexRows, type UserRow } from './users.repository.js';
import { newId } from '../ids.js';
import { buildUserRow } from './user-row.js';

const givenNames = [
  'Ana',
  'Bo',
  'Chris',
  'Daan',
  'Eva',
  'Femke',
  'Git',
  'Hugo',
  'Iris',
  'Jan',
  'Kim',
  'Lars',
  'Maud',
  'Noor',
  'Otto',
  'Pia',
  'Quinn',
  'Ruben',
  'Sara',
  'Tom',
  'Uma',
  'Vera',
  'Wout',
  'Xander',
  'Yara',
  'Zoe',
  'Walter',
  'Wanda',
];
const surnames = [
  'de Vries',
  'Jansen',
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'de Boer',
  'Mulder',
  'de Groot',
  'Bos',
  'Vos',
  'Peters',
  'Hendriks',
  'van Leeuwen',
  'Dekker',
  'Brouwer',
  'de Wit',
  'Dijkstra',
  'Smits',
  'de Graaf',
  'Wassink',
  'Wagenaar',
];
const partners = ['fabrikam.test', 'northwind.test', 'adatum.test', 'litware.test', 'tailspin.test', 'woodgrove.test', 'proseware.test', 'wingtip.test'];
const sources = ['directory', 'bulk', 'teams', 'sharepoint', 'api'];

/** Deterministic pseudo-random numbers (mulberry32), so a seeded directory is the same every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function insertChunked<T extends keyof Database>(db: Kysely<Database>, table: T, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  // Stay under both engines' bound-parameter limits (SQLite 32766, PostgreSQL 65535).
  const perStatement = Math.max(1, Math.floor(30000 / Object.keys(rows[0]!).length));
  for (let i = 0; i < rows.length; i += perStatement)
    await db
      .insertInto(table)
      .values(rows.slice(i, i + perStatement) as never)
      .execute();
}

/**
 * Bulk-loads a synthetic directory of `users` people, `guestRatio` of them guests, in batched
 * transactions. For demos and benchmarks; the rows are the same shape the API writes.
 */
export async function seedDirectory(
  db: Kysely<Database>,
  opts: { tenantId: string; domain: string; users: number; guestRatio: number; clock: Clock; batchSize?: number; onProgress?: (done: number) => void },
): Promise<void> {
  const rnd = random(opts.users * 7919 + 17);
  const batchSize = opts.batchSize ?? 5000;
  const nowMs = opts.clock.now().getTime();
  const runTag = newId().slice(0, 6);
  for (let start = 0; start < opts.users; start += batchSize) {
    const users: UserRow[] = [];
    for (let i = start; i < Math.min(opts.users, start + batchSize); i++) {
      const given = givenNames[Math.floor(rnd() * givenNames.length)]!;
      const surname = surnames[Math.floor(rnd() * surnames.length)]!;
      const guest = rnd() < opts.guestRatio;
      const local = `${given}.${surname.replace(/ /g, '')}.${runTag}${i}`.toLowerCase();
      const created = new Date(nowMs - Math.floor(rnd() * 730 * 86_400_000)).toISOString();
      const partner = partners[Math.floor(rnd() * partners.length)]!;
      const mail = guest ? `${local}@${partner}` : `${local}@${opts.domain}`;
      const upn = guest ? `${mail.replace('@', '_')}#EXT#@${opts.domain}` : mail;
      const accepted = guest && rnd() < 0.7;
      const displayName = `${given} ${surname}`;
      users.push(
        buildUserRow(
          {
            tenantId: opts.tenantId,
            displayName,
            userPrincipalName: upn,
            mailNickname: guest ? `${mail.replace('@', '_')}#EXT#` : local,
            userType: guest ? 'Guest' : 'Member',
            createdAt: created,
            mail,
            givenName: given,
            surname,
            identities:
              guest && accepted
                ? [{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: mail }]
                : [{ signInType: 'userPrincipalName', issuer: opts.domain, issuerAssignedId: upn }],
          },
          {
            creation_type: guest ? 'Invitation' : null,
            external_user_state: guest ? (accepted ? 'Accepted' : 'PendingAcceptance') : null,
            external_user_state_changed_at: guest ? created : null,
            company_name: guest ? partner.split('.')[0]! : null,
            last_sign_in_at: accepted || !guest ? created : null,
            last_successful_sign_in_at: accepted || !guest ? created : null,
            source: guest ? sources[Math.floor(rnd() * sources.length)]! : null,
          },
        ),
      );
    }
    const index = users.map(userIndexRows);
    await db.transaction().execute(async (trx) => {
      await insertChunked(trx, 'users', users as unknown as Record<string, unknown>[]);
      await insertChunked(
        trx,
        'user_search_terms',
        index.flatMap((x) => x.terms),
      );
      await insertChunked(
        trx,
        'user_identities',
        index.flatMap((x) => x.identities),
      );
    });
    opts.onProgress?.(Math.min(opts.users, start + batchSize));
  }
}
