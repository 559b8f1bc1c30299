/**
 * The web playground: static assets from web/ at / and /playground, its settings, and the typography preview
 * route (POST /playground/layout: the plan of a prompt as boxes; it generates nothing, so it needs no key).
 * Generation from the page goes through the signed API like any other client.
 */
import fastifyStatic from '@fastify/static';
import type {} from '@fastify/swagger'; // route schema keywords: summary, tags, hide
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS, SCHEDULERS } from '../contract/cvprocess.js';
import { layoutJson } from './layout-plan.js';

/** The @fontsource packages the typography draws with: the page previews boxes in the same faces. */
const FONTS_ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.resolve('@fontsource/noto-sans-sc/400.css'))));

/** web/ at the repository (or package) root; the same relative place from src/gateway and dist/gateway. */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

export interface PlaygroundOptions {
  region: string;
  service: string;
  auth: boolean;
  /** The served model and what a request gets when it sets no steps/guidance/scheduler. */
  model: { name: string; defaults?: { steps: number; guidanceScale: number; scheduler?: string; size: number } };
}

/** A layout request's body: the prompt and canvas size (clamped to what the API accepts). */
function parseLayoutBody(body: unknown): { prompt: string; width: number; height: number } | string {
  let obj: unknown = body;
  if (Buffer.isBuffer(body)) {
    try {
      obj = JSON.parse(body.toString('utf8'));
    } catch {
      return 'body must be JSON';
    }
  }
  if (typeof obj !== 'object' || obj === null) return 'body must be a JSON object';
  const { prompt, width = 1024, height = 1024 } = obj as Record<string, unknown>;
  if (typeof prompt !== 'string') return 'prompt must be a string';
  if ([...prompt].length > LIMITS.promptMaxChars) return `prompt must be at most ${LIMITS.promptMaxChars} characters`;
  const side = (v: unknown): number | null => (Number.isInteger(v) && (v as number) >= 64 && (v as number) <= 2 * LIMITS.sizeMax ? (v as number) : null);
  const w = side(width);
  const h = side(height);
  if (w === null || h === null) return `width and height must be integers in [64, ${2 * LIMITS.sizeMax}]`;
  return { prompt, width: w, height: h };
}

export async function registerPlayground(app: FastifyInstance, opts: PlaygroundOptions): Promise<void> {
  await app.register(fastifyStatic, {
    root: WEB_ROOT,
    prefix: '/playground/',
    // The page is small and changes with the server: revalidate rather than cache stale scripts.
    cacheControl: true,
    maxAge: 0,
    index: false,
  });
  // Font CSS and woff2 slices only (the browser fetches the unicode-range slices a prompt needs).
  await app.register(fastifyStatic, {
    root: FONTS_ROOT,
    prefix: '/playground/fonts/',
    decorateReply: false,
    index: false,
    maxAge: '30d',
    immutable: true,
    allowedPath: (p) => /^\/[a-z0-9-]+\/(?:[a-z0-9-]+\.css|files\/[a-z0-9-]+\.woff2)$/.test(p),
  });
  const page = async (_req: unknown, reply: { header: (k: string, v: string) => unknown; sendFile: (f: string) => unknown }) => {
    reply.header('Cache-Control', 'no-cache');
    return reply.sendFile('index.html');
  };
  app.get('/', { schema: { hide: true } }, page as never);
  app.get('/playground', { schema: { hide: true } }, page as never);

  app.get(
    '/playground/config.json',
    {
      schema: {
        summary: 'Playground settings: signing region/service, the served model and its defaults, request limits',
        tags: ['playground'],
      },
    },
    async () => ({
      region: opts.region,
      service: opts.service,
      auth: opts.auth,
      model: opts.model.name,
      defaults: opts.model.defaults ?? null,
      limits: { ...LIMITS },
      schedulers: SCHEDULERS,
    }),
  );

  app.post(
    '/playground/layout',
    {
      schema: {
        summary: 'The typography plan of a prompt: how each quoted span is placed, sized, coloured and styled (generates nothing)',
        tags: ['playground'],
        body: {
          type: 'object',
          required: ['prompt'],
          properties: { prompt: { type: 'string' }, width: { type: 'integer' }, height: { type: 'integer' } },
        },
      },
      // The body stays a Buffer (the app's parser); the schema above documents it, this checks it.
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const parsed = parseLayoutBody(req.body);
      if (typeof parsed === 'string') return reply.code(400).send({ error: parsed });
      return layoutJson(parsed.prompt, parsed.width, parsed.height);
    },
  );
}
