// The VS Code extension is built in its own issue; this entry point exists so that the package
// builds and its protocol constants are tested from the start.
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {}

export function deactivate(): void {}
