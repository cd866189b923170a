/**
 * @ora/admin: the admin web UI. The browser code lives in `src/ui` (Preact); `buildAdmin()` bundles
 * it with esbuild, in memory, into the page and the hashed assets that apps/api serves at /admin.
 */
export type { AdminAsset, AdminAssets } from './build';
export { ADMIN_CSP, buildAdmin } from './build';
