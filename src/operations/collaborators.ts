// Collaborators: who else has a role on an app, and which.
import { z } from 'zod';
import type { AppService } from '../apps/app-service.js';
import { appRoles } from '../roles.js';
import { defineOperation } from './operation.js';
import { table } from './text.js';
import { collaboratorView } from './views.js';

interface Deps {
  readonly apps: AppService;
}

export const listCollaborators = defineOperation(
  {
    name: 'apps:collaborators',
    summary: "An app's collaborators",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/collaborators', list: true },
    ssh: { usage: 'apps:collaborators APP', help: "list an app's collaborators", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.apps.collaborators(actor, i.app)).map(collaboratorView),
    text: (list) => (list.length === 0 ? 'no collaborators\n' : table([['USER', 'ROLE'], ...list.map((c) => [c.user, c.role])])),
  }),
);

export const addCollaborator = defineOperation(
  {
    name: 'apps:collaborators:add',
    summary: 'Give a user a role on an app',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), user: z.string(), role: z.enum(appRoles) }).strict(),
    http: { method: 'PUT', path: '/v1/apps/:app/collaborators/:user', status: 204, body: 'fields' },
    ssh: { usage: 'apps:collaborators:add APP USER --role read|write|admin', args: ['app', 'user'], options: { '--role': 'role' } },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.apps.addCollaborator(actor, i.app, i.user, i.role);
      return { app: i.app, user: i.user, role: i.role };
    },
    text: (r) => `${r.user} has ${r.role} access to ${r.app}\n`,
  }),
);

export const removeCollaborator = defineOperation(
  {
    name: 'apps:collaborators:remove',
    summary: "Remove a user's role",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), user: z.string() }),
    http: { method: 'DELETE', path: '/v1/apps/:app/collaborators/:user', status: 204 },
    ssh: { usage: 'apps:collaborators:remove APP USER', help: "remove a user's role on an app", args: ['app', 'user'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.apps.removeCollaborator(actor, i.app, i.user);
      return { app: i.app, removed: i.user };
    },
    text: (r) => `removed ${r.removed} from ${r.app}\n`,
  }),
);

export const collaboratorOperations = [listCollaborators, addCollaborator, removeCollaborator];
