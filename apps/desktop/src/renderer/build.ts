import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The renderer bundled: one script and one stylesheet, nothing inline. */
export interface RendererAssets {
  js: string;
  css: string;
}

/** Bundles src/renderer/main.ts with esbuild, in memory. */
export async function buildRenderer(options: { minify?: boolean } = {}): Promise<RendererAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]?.text ?? '';
  const css = await readFile(fileURLToPath(new URL('./styles.css', import.meta.url)), 'utf8');
  return { js, css };
}
