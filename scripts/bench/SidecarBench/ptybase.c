// Raw-PTY baselines for the sidecar benchmarks (same machine, same run):
//   ptybase throughput CMD   -> bytes and seconds reading CMD's output from a PTY master (64 KB reads)
//   ptybase echo N           -> p50/p99 microseconds of a 1-byte round trip through raw-mode cat
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int master;
  if (strcmp(argv[1], "throughput") == 0) {
    double t0 = now();
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    if (pid == 0) { execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL); _exit(127); }
    static char buf[65536]; long long total = 0; ssize_t n;
    while ((n = read(master, buf, sizeof buf)) > 0) total += n;
    waitpid(pid, NULL, 0);
    printf("{\"bytes\":%lld,\"seconds\":%.4f}\n", total, now() - t0);
    return 0;
  }
  int count = atoi(argv[2]);
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  if (pid == 0) { execl("/bin/sh", "sh", "-c", "stty raw -echo; exec cat", (char *)NULL); _exit(127); }
  usleep(200000);
  double *lat = malloc(sizeof(double) * count); char c = 'a', r;
  for (int i = 0; i < count; i++) {
    double t = now();
    if (write(master, &c, 1) != 1 || read(master, &r, 1) != 1) return 1;
    lat[i] = (now() - t) * 1e6;
  }
  qsort(lat, count, sizeof(double), cmp);
  printf("{\"p50us\":%.1f,\"p99us\":%.1f}\n", lat[count / 2], lat[count * 99 / 100]);
  kill(pid, 9); waitpid(pid, NULL, 0);
  return 0;
}
