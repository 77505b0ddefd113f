import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_PASSWORD, call, createGuest, createMember, createTestApp, expectGraphError, type Session, type TestApp } from './helpers/test-app.js';

/** Teams' guest defaults, tried as the guest; team and organization settings; sharing levels of sites; bad input. */
describe('teams and sites: guest rules, settings and sharing levels', () => {
  let t: TestApp;
  let admin: { session: Session };
  let owner: { session: Session };
  let guest: { session: Session };
  let guestId: string;
  let teamId: string;
  let otherTeamId: string;
  let generalId: string;
  let driveId: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    await createMember(t, admin, 'Olga Owner');
    owner = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
    guestId = await createGuest(t, admin, 'gus@partner.test', 'Gus Guest');
    guest = { session: await t.signIn('gus_partner.test#EXT#@contoso.test', MEMBER_PASSWORD) };
    teamId = (await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Alpha' } })).json().id;
    otherTeamId = (await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Secret' } })).json().id;
    const added = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/members`,
      payload: { 'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${guestId}')` },
    });
    expect(added.statusCode, added.body).toBe(201);
    generalId = (await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` })).json().value[0].id;
    driveId = (await call(t, guest, { method: 'GET', url: `/v1.0/groups/${teamId}/drive` })).json().id;
  });
  afterAll(() => t.close());

  /** Sessions last a day: after moving the clock by days, everyone signs in again. */
  async function signInAgain() {
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    owner = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
    guest = { session: await t.signIn('gus_partner.test#EXT#@contoso.test', MEMBER_PASSWORD) };
  }

  it('a guest cannot create teams, channels or meetings', async () => {
    expectGraphError(await call(t, guest, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Mine' } }), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await call(t, guest, { method: 'POST', url: `/v1.0/teams/${teamId}/channels`, payload: { displayName: 'Side' } }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(
      await call(t, guest, {
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        payload: { subject: 'x', startDateTime: '2026-11-02T10:00:00Z', endDateTime: '2026-11-02T11:00:00Z' },
      }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('a guest cannot add or remove members, nor become an owner', async () => {
    expectGraphError(
      await call(t, guest, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email: 'friend@partner.test' } }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await call(t, guest, { method: 'DELETE', url: `/v1.0/teams/${teamId}/members/${t.admin.id}` }), 403, 'Authorization_RequestDenied');
    const members = (await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/members` })).json().value;
    expect(members).toContainEqual(expect.objectContaining({ userId: guestId, roles: ['guest'] }));
    expectGraphError(
      await call(t, owner, { method: 'PATCH', url: `/v1.0/teams/${teamId}/members/${guestId}`, payload: { roles: ['owner'] } }),
      400,
      'Request_BadRequest',
      'Guests cannot be team owners.',
    );
  });

  it('a guest sees their team and its members, but nothing outside their teams', async () => {
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/members` })).statusCode).toBe(200);
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/teams/${otherTeamId}` }), 404, 'Request_ResourceNotFound');
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/teams/${otherTeamId}/channels` }), 404, 'Request_ResourceNotFound');
    expect((await call(t, guest, { method: 'GET', url: '/v1.0/me/joinedTeams' })).json().value.map((x: { id: string }) => x.id)).toEqual([teamId]);
    expectGraphError(await call(t, guest, { method: 'GET', url: '/v1.0/users' }), 403, 'Authorization_RequestDenied');
  });

  it('a guest edits and deletes their own messages, not others', async () => {
    const mine = (
      await call(t, guest, { method: 'POST', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`, payload: { body: { content: 'first' } } })
    ).json().id;
    const theirs = (
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`, payload: { body: { content: 'owner' } } })
    ).json().id;
    expect(
      (await call(t, guest, { method: 'PATCH', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${mine}`, payload: { body: { content: 'edited' } } }))
        .statusCode,
    ).toBe(204);
    const got = await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${mine}` });
    expect(got.json()).toMatchObject({ body: { content: 'edited' } });
    expect(got.json().lastEditedDateTime).not.toBeNull();
    expectGraphError(
      await call(t, guest, { method: 'PATCH', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${theirs}`, payload: { body: { content: 'x' } } }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(
      await call(t, guest, { method: 'DELETE', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${theirs}` }),
      403,
      'Authorization_RequestDenied',
    );
    expect((await call(t, guest, { method: 'POST', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${mine}/softDelete` })).statusCode).toBe(204);
  });

  it('a guest attaches a file to a channel post (channel folder only) and cannot change the library', async () => {
    const folder = (await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/filesFolder` })).json();
    const up = await call(t, guest, {
      method: 'PUT',
      url: `/v1.0/drives/${driveId}/items/${folder.id}:/notes.txt:/content`,
      payload: Buffer.from('notes'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(up.statusCode, up.body).toBe(201);
    const post = await call(t, guest, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`,
      payload: { body: { content: 'see file' }, attachments: [{ id: up.json().id, contentType: 'reference' }] },
    });
    expect(post.json().attachments).toMatchObject([{ id: up.json().id, name: 'notes.txt' }]);
    expectGraphError(
      await call(t, guest, {
        method: 'PUT',
        url: `/v1.0/drives/${driveId}/root:/top.txt:/content`,
        payload: Buffer.from('x'),
        headers: { 'content-type': 'text/plain' },
      }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(
      await call(t, guest, { method: 'POST', url: `/v1.0/drives/${driveId}/root/children`, payload: { name: 'Mine', folder: {} } }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await call(t, guest, { method: 'DELETE', url: `/v1.0/drives/${driveId}/items/${up.json().id}` }), 403, 'Authorization_RequestDenied');
    // An HTML file never comes back as a page.
    const html = await call(t, owner, {
      method: 'PUT',
      url: `/v1.0/drives/${driveId}/root:/x.html:/content`,
      payload: Buffer.from('<script>alert(1)</script>'),
      headers: { 'content-type': 'text/html' },
    });
    const dl = await call(t, guest, { method: 'GET', url: `/v1.0/drives/${driveId}/items/${html.json().id}/content?preview=1` });
    expect(dl.headers['content-type']).toBe('application/octet-stream');
    expect(dl.headers['content-disposition']).toMatch(/^attachment/);
    // Versions: a second upload of the same name.
    await call(t, owner, {
      method: 'PUT',
      url: `/v1.0/drives/${driveId}/root:/x.html:/content`,
      payload: Buffer.from('v2'),
      headers: { 'content-type': 'text/html' },
    });
    const versions = await call(t, guest, { method: 'GET', url: `/v1.0/drives/${driveId}/items/${html.json().id}/versions` });
    expect(versions.json().value.map((v: { versionLabel: string }) => v.versionLabel)).toEqual(['2.0', '1.0']);
  });

  it('versions uploaded at the same moment get numbers of their own', async () => {
    const put = (body: string) =>
      call(t, owner, {
        method: 'PUT',
        url: `/v1.0/drives/${driveId}/root:/busy.txt:/content`,
        payload: Buffer.from(body),
        headers: { 'content-type': 'text/plain' },
      });
    const first = await put('v0');
    expect(first.statusCode).toBe(201);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => put(`v${i + 1}`)));
    expect(answers.map((a) => a.statusCode).every((s) => s === 200)).toBe(true);
    const versions = await call(t, owner, { method: 'GET', url: `/v1.0/drives/${driveId}/items/${first.json().id}/versions` });
    const labels = versions.json().value.map((v: { versionLabel: string }) => v.versionLabel);
    expect(labels).toEqual(Array.from({ length: 21 }, (_, i) => `${21 - i}.0`));
  });

  it('team setting allowToAddGuests and the organization switch refuse guests; allowInvitesFrom and domain lists refuse new ones', async () => {
    expect((await call(t, owner, { method: 'PATCH', url: `/v1.0/teams/${otherTeamId}`, payload: { allowToAddGuests: false } })).statusCode).toBe(204);
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${otherTeamId}/members`, payload: { email: 'new@partner.test' } }),
      403,
      'Authorization_RequestDenied',
      /allowToAddGuests/,
    );
    await call(t, admin, { method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload: { allowInvitesFrom: 'none' } });
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email: 'new@partner.test' } }),
      403,
      'Authorization_RequestDenied',
      'Guest invitations not allowed for your company.',
    );
    await call(t, admin, { method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload: { allowInvitesFrom: 'everyone' } });
    await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/policies/collaboration', payload: { mode: 'deny', domains: ['blocked.test'] } });
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email: 'x@blocked.test' } }),
      403,
      'Authorization_RequestDenied',
    );
    expect((await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { allowGuestAccessInTeams: false } })).statusCode).toBe(
      200,
    );
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` }), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email: 'y@partner.test' } }),
      403,
      'Authorization_RequestDenied',
      /turned off/,
    );
    await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { allowGuestAccessInTeams: true } });
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` })).statusCode).toBe(200);
  });

  it('sharing levels: new guests, existing guests only, organization only, Anyone links that expire', async () => {
    expect(
      (
        await call(t, admin, {
          method: 'PATCH',
          url: '/v1.0/foyer/settings/collaboration',
          payload: { sharingCapability: 'ExternalUserAndGuestSharing', anyoneLinkExpirationDays: 7 },
        })
      ).statusCode,
    ).toBe(200);
    const site = (
      await call(t, owner, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Contracts', sharingCapability: 'ExternalUserSharingOnly' } })
    ).json();
    const shared = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/foyer/sites/${site.id}/members`,
      payload: { email: 'nina@newco.test', role: 'visitor' },
    });
    expect(shared.statusCode, shared.body).toBe(201);
    const inv = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations?$filter=source eq 'sharepoint'` });
    expect(inv.json().value).toMatchObject([{ invitedUserEmailAddress: 'nina@newco.test', source: 'sharepoint' }]);

    expect(
      (await call(t, owner, { method: 'PATCH', url: `/v1.0/sites/${site.id}`, payload: { sharingCapability: 'ExistingExternalUserSharingOnly' } })).statusCode,
    ).toBe(200);
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/foyer/sites/${site.id}/members`, payload: { email: 'olaf@newco.test' } }),
      403,
      'Authorization_RequestDenied',
      /only be shared with existing guests/,
    );
    expect((await call(t, owner, { method: 'POST', url: `/v1.0/foyer/sites/${site.id}/members`, payload: { email: 'gus@partner.test' } })).statusCode).toBe(
      201,
    );

    const drive = (await call(t, owner, { method: 'GET', url: `/v1.0/sites/${site.id}/drive` })).json();
    const file = (
      await call(t, owner, {
        method: 'PUT',
        url: `/v1.0/drives/${drive.id}/root:/c.pdf:/content`,
        payload: Buffer.from('%PDF'),
        headers: { 'content-type': 'application/pdf' },
      })
    ).json();
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/drives/${drive.id}/items/${file.id}/createLink`, payload: { type: 'view', scope: 'anonymous' } }),
      403,
      'Authorization_RequestDenied',
    );
    await call(t, owner, { method: 'PATCH', url: `/v1.0/sites/${site.id}`, payload: { sharingCapability: 'ExternalUserAndGuestSharing' } });
    const link = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/drives/${drive.id}/items/${file.id}/createLink`,
      payload: { type: 'view', scope: 'anonymous' },
    });
    expect(link.statusCode, link.body).toBe(201);
    expect(link.json().expirationDateTime).toBe(new Date(t.clock.now().getTime() + 7 * 86_400_000).toISOString());
    const path = new URL(link.json().link.webUrl).pathname;
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    t.clock.advance(8 * 86_400_000);
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(404);
    await signInAgain();

    await call(t, owner, { method: 'PATCH', url: `/v1.0/sites/${site.id}`, payload: { sharingCapability: 'Disabled' } });
    expectGraphError(
      await call(t, owner, {
        method: 'POST',
        url: `/v1.0/drives/${drive.id}/items/${file.id}/invite`,
        payload: { recipients: [{ email: 'gus@partner.test' }] },
      }),
      403,
      'Authorization_RequestDenied',
      /only be shared with people in your organization/,
    );
    // The organization's ceiling: a site cannot go above it.
    await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { sharingCapability: 'ExistingExternalUserSharingOnly' } });
    expectGraphError(
      await call(t, owner, { method: 'PATCH', url: `/v1.0/sites/${site.id}`, payload: { sharingCapability: 'ExternalUserAndGuestSharing' } }),
      400,
      'Request_BadRequest',
    );
  });

  it('guest access to a site expires after the organization’s days; owners renew it', async () => {
    await call(t, admin, {
      method: 'PATCH',
      url: '/v1.0/foyer/settings/collaboration',
      payload: { sharingCapability: 'ExternalUserSharingOnly', guestAccessExpirationDays: 10 },
    });
    const site = (await call(t, owner, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Expiring' } })).json();
    const added = await call(t, owner, { method: 'POST', url: `/v1.0/foyer/sites/${site.id}/members`, payload: { userId: guestId, role: 'visitor' } });
    expect(added.json().expirationDateTime).not.toBeNull();
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/sites/${site.id}` })).statusCode).toBe(200);
    t.clock.advance(11 * 86_400_000);
    await signInAgain();
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/sites/${site.id}` }), 404, 'Request_ResourceNotFound');
    expect((await call(t, owner, { method: 'POST', url: `/v1.0/foyer/sites/${site.id}/members/${guestId}/renew` })).statusCode).toBe(200);
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/sites/${site.id}` })).statusCode).toBe(200);
    expectGraphError(
      await call(t, guest, { method: 'POST', url: `/v1.0/foyer/sites/${site.id}/members/${guestId}/renew` }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('bad input answers 4xx in Graph’s envelope', async () => {
    expectGraphError(await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: '' } }), 400, 'Request_BadRequest');
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/channels`, payload: { displayName: 'a/b' } }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/channels`, payload: { displayName: 'General' } }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, {
        method: 'POST',
        url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`,
        payload: { body: { contentType: 'html', content: '<b>x</b>' } },
      }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`, payload: { body: { content: '   ' } } }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages?$skiptoken=zzz` }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(await call(t, owner, { method: 'GET', url: '/v1.0/teams/not-a-guid' }), 404, 'Request_ResourceNotFound');
    expectGraphError(
      await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { email: 'not an email' } }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, {
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        payload: { subject: 'x', startDateTime: '2026-11-02T11:00:00Z', endDateTime: '2026-11-02T10:00:00Z' },
      }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, {
        method: 'PUT',
        url: `/v1.0/drives/${driveId}/root:/..:/content`,
        payload: Buffer.from('x'),
        headers: { 'content-type': 'text/plain' },
      }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { sharingCapability: 'Everyone' } }),
      400,
      'Request_BadRequest',
    );
    expectGraphError(
      await call(t, owner, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { allowGuestAccessInTeams: false } }),
      403,
      'Authorization_RequestDenied',
    );
  });
});
