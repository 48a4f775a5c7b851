// The status bar item: the sidecar's state, else the current session's provider and state.
import * as vscode from 'vscode';
import type { SidecarClient } from '../sidecar/client';
import type { CurrentSession } from './current';

export function createStatusBar(client: SidecarClient, current: CurrentSession): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('agentSidecar.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Agent Sidecar';
  const update = () => {
    const s = current.value;
    item.command = 'agentSidecar.showChat';
    item.backgroundColor = undefined;
    if (client.state === 'starting') {
      item.text = '$(loading~spin) Agent Sidecar: starting';
    } else if (client.state === 'failed' || client.state === 'stopped') {
      item.text = '$(error) Agent Sidecar: stopped';
      item.command = 'agentSidecar.restartSidecar';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (!s) {
      item.text = '$(hubot) Agent Sidecar';
      item.command = 'agentSidecar.startSession';
    } else {
      const state = (s.status === 'active' || s.status === 'created') && !s.owner ? 'not running' : s.busy ? 'working' : s.status;
      item.text = `${s.busy ? '$(sync~spin)' : s.status === 'suspended' ? '$(debug-pause)' : '$(hubot)'} ${s.provider}${s.taskId ? ` · ${s.taskId}` : ''}: ${state}`;
      if (s.status === 'suspended') item.command = { command: 'agentSidecar.resumeSession', title: 'Resume', arguments: [s] };
    }
    item.tooltip = `Agent Sidecar (${client.state}${client.pid ? `, pid ${client.pid}` : ''})${s ? `\nSession ${s.id}` : ''}`;
    item.show();
  };
  update();
  return vscode.Disposable.from(item, client.onDidChangeState(update), current.onDidChange(update));
}
