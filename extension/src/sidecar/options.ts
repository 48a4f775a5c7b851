// Settings (agentSidecar.*) → the sidecar's command line and initializationOptions.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const section = 'agentSidecar';

export interface ServerCommand { command: string; args: string[]; origin: 'setting' | 'bundled' | 'development' }

/**
 * The sidecar to run: the `serverPath` setting, else the one shipped in the .vsix (server/), else the
 * repository's launcher when the extension runs from a checkout (extension/ beside scripts/).
 */
export function resolveServer(extensionPath: string, configured: string, exists: (p: string) => boolean = fs.existsSync): ServerCommand | undefined {
  if (configured.trim()) return { command: configured.trim(), args: [], origin: 'setting' };
  const bundled = path.join(extensionPath, 'server', 'agent-sidecar');
  if (exists(bundled)) return { command: bundled, args: [], origin: 'bundled' };
  const dev = path.join(extensionPath, '..', 'scripts', 'agent-sidecar');
  if (exists(dev)) return { command: dev, args: [], origin: 'development' };
  return undefined;
}

export function serverArgs(dataDir: string): string[] {
  const args = ['--stdio'];
  if (dataDir.trim()) args.push('--data-dir', dataDir.trim());
  return args;
}

/** initializationOptions from the settings; only what the user set is sent. */
export function initializationOptions(get: <T>(key: string) => T | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const defaultProvider = get<string>('defaultProvider');
  if (defaultProvider) options.defaultProvider = defaultProvider;
  const providers = get<Record<string, unknown>>('providers');
  if (providers && Object.keys(providers).length) options.providers = providers;
  const metrics = { ...(get<Record<string, unknown>>('metrics') ?? {}) };
  const endpoint = get<string>('metricsEndpoint');
  if (endpoint) metrics.endpoint = endpoint;
  if (Object.keys(metrics).length) options.metrics = metrics;
  const linger = get<number>('lingerSeconds');
  if (typeof linger === 'number' && linger >= 0) options.lingerSeconds = linger;
  const dataDir = get<string>('dataDir');
  if (dataDir) options.dataDir = dataDir;
  return options;
}
