import { ADMIN_CSP, type AdminAssets, buildAdmin } from '@ora/admin';
import { OraError } from '@ora/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface AdminRoutesOptions {
  /** How the UI is built (tests may pass a prebuilt one); default: esbuild, in memory, once. */
  build?: () => Promise<AdminAssets>;
  /** Where the build time is logged. */
  log?: { info(fields: object, message: string): void };
}

/**
 * `/admin`: the admin web UI (apps/admin). It is bundled on the first request and kept in memory,
 * so starting the server costs nothing and no build step is needed; the page holds no inline
 * script and gets a CSP of its own (see ADMIN_CSP). All data goes through POST /api/ora with the
 * operator's key, which the page keeps in session storage.
 */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions = {}): Promise<void> {
  const build = options.build ?? (() => buildAdmin());
  let assets: Promise<AdminAssets> | null = null;
  const load = async () => {
    assets ??= build().then(
      (built) => {
        options.log?.info({ buildMs: built.buildMs }, 'admin UI built');
        return built;
      },
      (error: unknown) => {
        assets = null; // the next request tries again
        throw new OraError({
          code: 'INTERNAL_ERROR',
          message: 'The admin UI could not be built; the server log has the esbuild error',
          cause: error,
        });
      },
    );
    return assets;
  };
  const page = async (reply: FastifyReply) => {
    const { html } = await load();
    return reply
      .header('content-security-policy', ADMIN_CSP)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(html);
  };

  app.get('/admin', async (_request, reply) => page(reply));
  app.get('/admin/', async (_request, reply) => page(reply));
  app.get<{ Params: { file: string } }>('/admin/assets/:file', async (request, reply) => {
    const file = (await load()).files.get(request.params.file);
    if (!file) throw new OraError({ code: 'NOT_FOUND', message: `No admin asset ${request.params.file}` });
    return reply
      .header('content-security-policy', ADMIN_CSP)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(file.type)
      .send(file.body);
  });
}
