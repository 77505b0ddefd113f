import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { PoliciesService } from './policies.service.js';
import type { RequestContext } from '../http/context.js';
import { formatValidationErrors } from '../http/validation.js';
import { guestAccessLevels } from '../auth/permissions.js';

const AuthorizationPolicyPatch = Type.Object(
  {
    '@odata.type': Type.Optional(Type.String()),
    allowInvitesFrom: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('adminsAndGuestInviters'), Type.Literal('adminsGuestInvitersAndAllMembers'), Type.Literal('everyone')]),
    ),
    guestUserRoleId: Type.Optional(Type.Union(Object.values(guestAccessLevels).map((v) => Type.Literal(v)))),
    allowedToSignUpEmailBasedSubscriptions: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function registerPolicyRoutes(app: FastifyInstance, policies: PoliciesService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['policies'];
  app.get('/v1.0/policies/authorizationPolicy', { schema: { tags, summary: 'External collaboration authorization policy' } }, (req) =>
    policies.getAuthorizationPolicy(ctx(req)),
  );
  app.patch(
    '/v1.0/policies/authorizationPolicy',
    {
      schema: { tags, summary: 'Change who may invite and what guests may see', body: AuthorizationPolicyPatch },
      schemaErrorFormatter: (e, v) => formatValidationErrors(e, v, ['id', 'displayName', 'description']),
    },
    async (req, reply) => {
      const { '@odata.type': _t, ...patch } = req.body as Static<typeof AuthorizationPolicyPatch>;
      await policies.updateAuthorizationPolicy(ctx(req), patch);
      return reply.status(204).send();
    },
  );
}
