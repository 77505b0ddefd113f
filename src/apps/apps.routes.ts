import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RequestContext } from '../http/context.js';
import { formatValidationErrors } from '../http/validation.js';
import type { ApplicationsService } from './applications.service.js';
import type { AssignmentsService } from './assignments.service.js';
import {
  AddPasswordBody,
  ApplicationCreateBody,
  ApplicationUpdateBody,
  AppRoleAssignmentBody,
  RemovePasswordBody,
  ServicePrincipalCreateBody,
  ServicePrincipalUpdateBody,
  readOnlyApplicationProperties,
  readOnlyAssignmentProperties,
  readOnlyServicePrincipalProperties,
} from './apps.schemas.js';

const Id = Type.Object({ id: Type.String({ maxLength: 1024 }) });
const IdRef = Type.Object({ id: Type.String({ maxLength: 1024 }), ref: Type.String({ maxLength: 1024 }) });
type P = { id: string; ref: string };
const errorsNaming = (readOnly: readonly string[]) => (errors: Parameters<typeof formatValidationErrors>[0], dataVar: string) =>
  formatValidationErrors(errors, dataVar, readOnly);

/** Graph's applications, servicePrincipals and appRoleAssignments, and Foyer's My apps. */
export function registerAppRoutes(
  app: FastifyInstance,
  services: { applications: ApplicationsService; assignments: AssignmentsService },
  ctx: (r: FastifyRequest) => RequestContext,
): void {
  const { applications, assignments } = services;
  const tags = ['applications'];
  const appErrors = errorsNaming(readOnlyApplicationProperties);
  const spErrors = errorsNaming(readOnlyServicePrincipalProperties);
  const assignmentErrors = errorsNaming(readOnlyAssignmentProperties);
  const noContent = async <T>(work: Promise<T>, reply: { status(n: number): { send(): unknown } }) => {
    await work;
    return reply.status(204).send();
  };

  app.get('/v1.0/applications', { schema: { tags, summary: 'List applications' } }, (req) => applications.listApplications(ctx(req)));
  app.post(
    '/v1.0/applications',
    { schema: { tags, summary: 'Register an application', body: ApplicationCreateBody }, schemaErrorFormatter: appErrors },
    async (req, reply) => reply.status(201).send(await applications.createApplication(ctx(req), req.body as ApplicationCreateBody)),
  );
  app.get('/v1.0/applications/:id', { schema: { tags, summary: 'Get an application', params: Id } }, (req) =>
    applications.getApplication(ctx(req), (req.params as P).id),
  );
  app.patch(
    '/v1.0/applications/:id',
    { schema: { tags, summary: 'Update an application', params: Id, body: ApplicationUpdateBody }, schemaErrorFormatter: appErrors },
    (req, reply) => noContent(applications.updateApplication(ctx(req), (req.params as P).id, req.body as ApplicationUpdateBody), reply),
  );
  app.delete('/v1.0/applications/:id', { schema: { tags, summary: 'Delete an application (permanently)', params: Id } }, (req, reply) =>
    noContent(applications.deleteApplication(ctx(req), (req.params as P).id), reply),
  );
  app.post(
    '/v1.0/applications/:id/addPassword',
    { schema: { tags, summary: 'Add a client secret (answered once)', params: Id, body: AddPasswordBody }, schemaErrorFormatter: errorsNaming([]) },
    (req) => applications.addPassword(ctx(req), (req.params as P).id, (req.body ?? {}) as AddPasswordBody),
  );
  app.post(
    '/v1.0/applications/:id/removePassword',
    { schema: { tags, summary: 'Remove a client secret', params: Id, body: RemovePasswordBody }, schemaErrorFormatter: errorsNaming([]) },
    (req, reply) => noContent(applications.removePassword(ctx(req), (req.params as P).id, req.body as RemovePasswordBody), reply),
  );

  app.get('/v1.0/servicePrincipals', { schema: { tags, summary: 'List service principals' } }, (req) => applications.listServicePrincipals(ctx(req)));
  app.post(
    '/v1.0/servicePrincipals',
    { schema: { tags, summary: 'Create the service principal of an application', body: ServicePrincipalCreateBody }, schemaErrorFormatter: spErrors },
    async (req, reply) => reply.status(201).send(await applications.createServicePrincipal(ctx(req), req.body as ServicePrincipalCreateBody)),
  );
  app.get('/v1.0/servicePrincipals/:id', { schema: { tags, summary: 'Get a service principal', params: Id } }, (req) =>
    applications.getServicePrincipal(ctx(req), (req.params as P).id),
  );
  app.patch(
    '/v1.0/servicePrincipals/:id',
    {
      schema: { tags, summary: 'Update a service principal (appRoleAssignmentRequired, accountEnabled)', params: Id, body: ServicePrincipalUpdateBody },
      schemaErrorFormatter: spErrors,
    },
    (req, reply) => noContent(applications.updateServicePrincipal(ctx(req), (req.params as P).id, req.body as ServicePrincipalUpdateBody), reply),
  );
  app.delete('/v1.0/servicePrincipals/:id', { schema: { tags, summary: 'Delete a service principal and its assignments', params: Id } }, (req, reply) =>
    noContent(applications.deleteServicePrincipal(ctx(req), (req.params as P).id), reply),
  );

  app.get('/v1.0/servicePrincipals/:id/appRoleAssignedTo', { schema: { tags, summary: 'Users and groups assigned to the application', params: Id } }, (req) =>
    assignments.listAssignedTo(ctx(req), (req.params as P).id),
  );
  app.post(
    '/v1.0/servicePrincipals/:id/appRoleAssignedTo',
    { schema: { tags, summary: 'Assign a user or group', params: Id, body: AppRoleAssignmentBody }, schemaErrorFormatter: assignmentErrors },
    async (req, reply) => reply.status(201).send(await assignments.assign(ctx(req), (req.params as P).id, req.body as AppRoleAssignmentBody)),
  );
  app.delete('/v1.0/servicePrincipals/:id/appRoleAssignedTo/:ref', { schema: { tags, summary: 'Remove an assignment', params: IdRef } }, (req, reply) =>
    noContent(assignments.unassign(ctx(req), (req.params as P).id, (req.params as P).ref), reply),
  );

  app.get('/v1.0/users/:id/appRoleAssignments', { schema: { tags: ['users'], summary: "The user's app role assignments", params: Id } }, (req) =>
    assignments.listForUser(ctx(req), (req.params as P).id),
  );
  app.post(
    '/v1.0/users/:id/appRoleAssignments',
    {
      schema: { tags: ['users'], summary: 'Assign the user to an application', params: Id, body: AppRoleAssignmentBody },
      schemaErrorFormatter: assignmentErrors,
    },
    async (req, reply) => reply.status(201).send(await assignments.assignToUser(ctx(req), (req.params as P).id, req.body as AppRoleAssignmentBody)),
  );
  app.delete(
    '/v1.0/users/:id/appRoleAssignments/:ref',
    { schema: { tags: ['users'], summary: "Remove one of the user's assignments", params: IdRef } },
    (req, reply) => noContent(assignments.unassignFromUser(ctx(req), (req.params as P).id, (req.params as P).ref), reply),
  );
  app.get('/v1.0/groups/:id/appRoleAssignments', { schema: { tags: ['groups'], summary: "The group's app role assignments", params: Id } }, (req) =>
    assignments.listForGroup(ctx(req), (req.params as P).id),
  );

  app.get('/v1.0/me/foyer/apps', { schema: { tags, summary: 'Applications the signed-in person may open (My apps)' } }, async (req) => {
    const c = ctx(req);
    return { '@odata.context': `${c.baseUrl}/v1.0/$metadata#foyer/apps`, value: await assignments.myApps(c.actor) };
  });
}
