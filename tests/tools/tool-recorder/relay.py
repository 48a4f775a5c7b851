#!/usr/bin/env python3
"""relay.py LOG.jsonl CMD... : run CMD in its own pty inside the current terminal (a tmux pane), copying
bytes both ways and logging every chunk as {"t": <epoch seconds>, "dir": "in"|"out", "b64": ...}.
The child's window size follows this terminal's (SIGWINCH). tmux answers the agent's terminal queries;
those answers are logged as "in" like keys. ANSWER7501=1: answer Claude Code's ESC]7501;? probe."""
import os, sys, pty, tty, json, time, base64, select, signal, fcntl, termios, struct

log = open(sys.argv[1], 'w', buffering=1)
cmd = sys.argv[2:]
ANSWER7501 = os.environ.get('ANSWER7501') == '1'


def size():
    return fcntl.ioctl(0, termios.TIOCGWINSZ, b'\0' * 8)


pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, size())
signal.signal(signal.SIGWINCH, lambda *_: fcntl.ioctl(fd, termios.TIOCSWINSZ, size()))
old = termios.tcgetattr(0)
tty.setraw(0)


def rec(d, b):
    log.write(json.dumps({'t': round(time.time(), 4), 'dir': d, 'b64': base64.b64encode(b).decode()}) + '\n')


try:
    while True:
        try:
            r, _, _ = select.select([0, fd], [], [])
        except InterruptedError:
            continue
        if fd in r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                break
            if not b:
                break
            rec('out', b)
            os.write(1, b)
            if ANSWER7501 and b'\x1b]7501;?' in b:
                # Claude Code's program-status probe; answered, it writes ESC]7501;state=... marks.
                rec('in', b'\x1b]7501;?\x1b\\')
                os.write(fd, b'\x1b]7501;?\x1b\\')
        if 0 in r:
            b = os.read(0, 65536)
            if not b:
                break
            rec('in', b)
            os.write(fd, b)
finally:
    termios.tcsetattr(0, termios.TCSADRAIN, old)
    _, status = os.waitpid(pid, 0)
    log.write(json.dumps({'t': round(time.time(), 4), 'exit': status}) + '\n')
