// The sidecar as the extension sees it: one SidecarClient, its stderr in a LogOutputChannel, the
// settings as initializationOptions, and a notification with a retry when the restart policy gives up.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Logger, SidecarClient } from './client';
import { RestartPolicy, defaultRestartPolicy } from './restartPolicy';
import { initializationOptions, resolveServer, section, serverArgs } from './options';

export function createSidecar(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): SidecarClient {
  const config = () => vscode.workspace.getConfiguration(section);
  const logger: Logger = {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
    server: (line) => log.info(`[sidecar] ${line}`),
  };
  const policy = new RestartPolicy({
    maxCrashes: config().get<number>('restart.maxCrashes') ?? defaultRestartPolicy.maxCrashes,
    windowMs: (config().get<number>('restart.windowMinutes') ?? 3) * 60_000,
  });
  const client = new SidecarClient({
    logger,
    restartPolicy: policy,
    clientInfo: { name: vscode.env.appName, version: vscode.version },
    initializationOptions: () => initializationOptions((key) => config().get(key)),
    spawn: () => {
      const server = resolveServer(context.extensionPath, config().get<string>('serverPath') ?? '');
      if (!server) throw new Error('no sidecar found: set agentSidecar.serverPath');
      if (server.origin === 'bundled') ensureExecutable(server.command, log);
      const args = [...server.args, ...serverArgs(config().get<string>('dataDir') ?? '')];
      log.info(`spawning ${server.command} ${args.join(' ')} (${server.origin})`);
      const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      // Its own process group: when the window reloads, the extension host goes and the sidecar
      // may stay (its sessions outlive the window); cwd is the workspace, whose sessions a
      // sidecar still running from before the reload takes this window back to.
      return spawn(server.command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd, env: process.env, detached: true });
    },
  });
  context.subscriptions.push(
    client,
    client.onDidGiveUp(async ({ reason }) => {
      const choice = await vscode.window.showErrorMessage(`Agent Sidecar stopped: ${reason}.`, 'Restart Sidecar', 'Show Log');
      if (choice === 'Restart Sidecar') void client.start();
      else if (choice === 'Show Log') log.show();
    }),
    client.onDidRestart((r) => log.info(`sidecar restarted (pid ${r.serverInfo.pid ?? '?'}); terminals and chat re-attached`)),
  );
  return client;
}

/** A .vsix is a zip: some installers drop the executable bit of the shipped sidecar. */
function ensureExecutable(file: string, log: vscode.LogOutputChannel): void {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    try {
      fs.chmodSync(file, 0o755);
    } catch (err) {
      log.warn(`could not make ${file} executable: ${(err as Error).message}`);
    }
  }
}
