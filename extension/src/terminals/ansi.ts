// Terminal-output facts the extension needs without emulating a terminal (the sidecar does that).

const alternateScreenMode = /\x1b\[\?(?:1049|1047|47)([hl])/g;

/** The alternate-screen state after `output`: the last switch in it wins. */
export function alternateScreenAfter(output: string, before: boolean): boolean {
  let state = before;
  for (const m of output.matchAll(alternateScreenMode)) state = m[1] === 'h';
  return state;
}
