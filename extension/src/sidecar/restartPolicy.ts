// When to restart a crashed sidecar, like vscode-languageclient's default error handler: restart
// after each crash, but give up once it has crashed `maxCrashes` times within `windowMs` (a sidecar
// that dies at start would otherwise be respawned forever). The caller then tells the user and
// offers a retry, which calls reset().

export interface RestartPolicyOptions {
  /** Crashes within the window that make us give up (vscode-languageclient: 5 in 3 minutes). */
  maxCrashes: number;
  windowMs: number;
}

export const defaultRestartPolicy: RestartPolicyOptions = { maxCrashes: 5, windowMs: 3 * 60_000 };

export type CrashDecision = { restart: true; delayMs: number } | { restart: false; crashes: number; windowMs: number };

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions = defaultRestartPolicy) {
    if (options.maxCrashes < 1 || options.windowMs <= 0) throw new RangeError('maxCrashes must be >= 1 and windowMs > 0');
  }

  /** Records a crash at `now` (ms) and says whether to restart, and after how long. */
  onCrash(now: number): CrashDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.options.windowMs);
    this.crashes.push(now);
    if (this.crashes.length >= this.options.maxCrashes) {
      return { restart: false, crashes: this.crashes.length, windowMs: this.options.windowMs };
    }
    // A short back-off that grows with the recent crashes: 0 s for the first, then 0.5, 1, 2 s…
    const delayMs = this.crashes.length === 1 ? 0 : Math.min(4_000, 250 * 2 ** (this.crashes.length - 1));
    return { restart: true, delayMs };
  }

  /** Crashes counted in the window ending at `now`. */
  recentCrashes(now: number): number {
    return this.crashes.filter((t) => now - t < this.options.windowMs).length;
  }

  /** Forget every crash (the user asked to retry). */
  reset(): void {
    this.crashes = [];
  }
}
