import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { buildUserRow } from '../../src/directory/user-row.js';
import type { UserRow } from '../../src/directory/users.repository.js';

// Rows written straight into the tables, for tests of migrations over an existing directory.

const createdAt = '2026-11-01T00:00:00.000Z';

/** The organization 't' (t.test) the rows below belong to. */
export async function insertStoredTenant(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('tenants')
    .values({ id: 't', display_name: 'T', initial_domain: 't.test', created_at: createdAt, authorization_policy: '{}', collaboration_policy: '{}' })
    .execute();
}

/** `count` guests of 't', each with a display name, mail, other mail and identity. */
export function storedGuests(count: number): UserRow[] {
  return Array.from({ length: count }, (_, i) =>
    buildUserRow({
      tenantId: 't',
      displayName: `Ana Lopez ${i}`,
      userPrincipalName: `ana${i}_partner.test#EXT#@t.test`,
      mailNickname: `ana${i}`,
      userType: 'Guest',
      createdAt,
      mail: `ana${i}@partner.test`,
      otherMails: [`ana.lopez${i}@partner.test`],
      identities: [{ signInType: 'emailAddress', issuer: 't.test', issuerAssignedId: `ana${i}@partner.test` }],
    }),
  );
}
