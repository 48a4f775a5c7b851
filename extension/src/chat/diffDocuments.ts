// "Open diff" on an edit card: VS Code's diff editor of the file's text before and after the edit,
// both as read-only virtual documents of our own scheme (the file on disk may have changed since).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TextStore } from './textStore';

export const diffScheme = 'agent-sidecar-diff';
/** Diffs opened in one window rarely exceed a few dozen; each keeps two texts. */
const keptTexts = 200;

export class DiffDocuments implements vscode.TextDocumentContentProvider {
  private readonly store = new TextStore(keptTexts);

  /** `/<id>/<file name>`: the id finds the text, the file name gives the editor its language. */
  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = uri.path.split('/')[1] ?? '';
    return this.store.get(id) ?? '';
  }

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(diffScheme, this);
  }

  /** Opens the diff; an absent side (`oldText` of a new file, `newText` of a deleted one) is empty. */
  async open(file: { path: string; oldText?: string; newText?: string }): Promise<void> {
    const name = path.basename(file.path) || 'file';
    const uri = (text: string) => vscode.Uri.from({ scheme: diffScheme, path: `/${this.store.add(text)}/${name}` });
    const what = file.oldText === undefined ? 'new file' : file.newText === undefined ? 'deleted' : 'agent edit';
    await vscode.commands.executeCommand('vscode.diff', uri(file.oldText ?? ''), uri(file.newText ?? ''), `${name} (${what})`, { preview: true });
  }
}
