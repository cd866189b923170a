import type { Command } from '../command';
import { fields, table } from '../render';

const agentsLs: Command = {
  name: 'agents ls',
  aliases: ['agents list'],
  group: 'Daily use',
  summary: 'The agents, their models and tools, with their tasks by state',
  async run(ctx) {
    const client = ctx.client();
    const [{ items }, status] = await Promise.all([client.call('agents.list', {}), client.call('agents.status', {})]);
    if (ctx.json) return ctx.out(JSON.stringify({ items, status: status.agents }, null, 2));
    const counts = new Map(status.agents.map((a) => [a.agentId, a]));
    ctx.out(
      table(items, [
        { header: 'SLUG', value: (a) => a.slug },
        { header: 'NAME', value: (a) => a.name },
        { header: 'MODEL', value: (a) => a.model ?? '(server default)' },
        { header: 'FALLBACKS', value: (a) => a.fallbackModels },
        { header: 'TOOLS', value: (a) => a.tools.length },
        { header: 'ACTIVE', value: (a) => a.isActive },
        { header: 'QUEUED', value: (a) => (counts.get(a.id)?.queued ?? 0) + (counts.get(a.id)?.pending ?? 0) },
        { header: 'RUNNING', value: (a) => counts.get(a.id)?.running ?? 0 },
        { header: 'WAITING', value: (a) => counts.get(a.id)?.waiting ?? 0 },
        { header: 'FAILED', value: (a) => counts.get(a.id)?.failed ?? 0 },
        { header: 'DONE', value: (a) => counts.get(a.id)?.succeeded ?? 0 },
      ]),
    );
    const system = counts.get(null);
    if (system) {
      ctx.note(
        `System tasks: ${system.queued + system.pending} queued, ${system.running} running, ${system.failed} failed, ${system.succeeded} done.`,
      );
    }
  },
};

const webhooksLs: Command = {
  name: 'webhooks ls',
  aliases: ['webhooks list'],
  group: 'Daily use',
  summary: 'Webhooks with their events and delivery counts',
  async run(ctx) {
    const page = await ctx.client().call('webhooks.list', { limit: 200 });
    if (ctx.json) return ctx.out(JSON.stringify(page, null, 2));
    if (page.items.length === 0) {
      return ctx.out(
        'No webhooks. Make one: ora webhooks.create --name NAME --url https://... --events task.completed',
      );
    }
    ctx.out(
      table(page.items, [
        { header: 'ID', value: (w) => w.id },
        { header: 'NAME', value: (w) => w.name },
        { header: 'URL', value: (w) => w.url, max: 50 },
        { header: 'EVENTS', value: (w) => w.events, max: 40 },
        { header: 'STATE', value: (w) => (w.disabledAt ? 'disabled' : w.isActive ? 'active' : 'paused') },
        { header: 'OK', value: (w) => w.successfulDeliveries },
        { header: 'FAILED', value: (w) => w.failedDeliveries },
      ]),
    );
  },
};

const syncStatus: Command = {
  name: 'sync status',
  group: 'Daily use',
  summary: 'Sync state: the newest server version, clients and their cursors, pending conflicts',
  async run(ctx) {
    const status = await ctx.client().call('sync.status', {});
    if (ctx.json) return ctx.out(JSON.stringify(status, null, 2));
    ctx.out(
      fields([
        ['server version', status.serverVersion],
        ['server time', status.serverTime],
        ['memories', status.counts.memories],
        ['conversations', status.counts.conversations],
        ['tombstones', status.counts.tombstones],
        ['conflicts', `${status.counts.conflictsPending} pending, ${status.counts.conflictsResolved} resolved`],
      ]),
    );
    if (status.clients.length) {
      ctx.out('\nClients:');
      ctx.out(
        table(status.clients, [
          { header: 'CLIENT', value: (c) => c.clientId },
          { header: 'CURSOR', value: (c) => c.lastPullCursor },
          { header: 'LAST PUSH', value: (c) => c.lastPushAt },
          { header: 'LAST PULL', value: (c) => c.lastPullAt },
          { header: 'CONFLICTS', value: (c) => c.pendingConflicts },
        ]),
      );
    } else ctx.out('\nNo client has synced yet.');
    if (status.pendingConflicts.length) {
      ctx.note(
        `${status.pendingConflicts.length} conflict(s) wait for a decision: \`ora sync.conflicts --status pending\`, then \`ora sync.resolve --conflict-id ID --keep server|local|merged\`.`,
      );
    }
  },
};

export const resourceCommands: Command[] = [agentsLs, webhooksLs, syncStatus];
